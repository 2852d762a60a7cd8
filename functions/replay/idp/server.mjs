// A real OpenID provider (panva/oidc-provider) for jwtgate's end-to-end
// test. TEST-ONLY: throw-away keys, a well-known client secret, loopback.
//
// It issues JWT access tokens (typ at+jwt, RS256) to a client-credentials
// client for a resource indicator (RFC 8707):
//
//   node server.mjs [port]        (or PORT=…; default 0 = a free port)
//
// When it listens it prints one line:  READY http://127.0.0.1:<port>
// The issuer is exactly that URL (no trailing slash), and discovery is at
// <issuer>/.well-known/openid-configuration.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

// The API this provider issues tokens for, and a second one (a token for it
// must be refused by a gate configured for the first).
export const API = process.env.IDP_API ?? 'https://api.example.com';
export const OTHER_API = process.env.IDP_OTHER_API ?? 'https://other.example.com';
export const CLIENT_ID = 'jwtgate-e2e';
export const CLIENT_SECRET = 'jwtgate-e2e-test-only-secret';
const SCOPES = 'orders:read orders:write';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `e2e-${randomUUID()}`, use: 'sig', alg: 'RS256' };

let handler = (req, res) => {
  res.statusCode = 503;
  res.end('starting');
};
const server = createServer((req, res) => handler(req, res));

server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: SCOPES,
    }],
    jwks: { keys: [signingKey] },
    scopes: SCOPES.split(' '),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          if (resource !== API && resource !== OTHER_API) {
            throw new errors.InvalidTarget();
          }
          return {
            audience: resource,
            scope: SCOPES,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 600,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  handler = provider.callback();
  process.stdout.write(`READY ${issuer}\n`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}

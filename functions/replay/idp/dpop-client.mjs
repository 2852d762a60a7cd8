// A DPoP client (RFC 9449) made with panva/jose, the library oidc-provider
// itself uses: jwtgate's end-to-end tests check proofs from a real client
// library, not only from their own helper. TEST-ONLY.
//
//   node dpop-client.mjs [alg]     (ES256 by default; EdDSA, PS256, RS256, …)
//
// It makes a key pair, then prints one line:
//   READY {"alg":"ES256","jkt":"<RFC 7638 SHA-256 thumbprint>"}
// and for each line it reads, a JSON request {"htm":…,"htu":…,"token":…}
// (token optional: with it the proof carries ath), prints one line: the
// proof, a compact JWS (typ dpop+jwt, the public jwk in the header).

import { createHash, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

const alg = process.argv[2] ?? 'ES256';
const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
const jwk = await exportJWK(publicKey);
const jkt = await calculateJwkThumbprint(jwk, 'sha256');

async function proof({ htm, htu, token }) {
  const claims = { htm, htu };
  if (token) {
    claims.ath = createHash('sha256').update(token).digest('base64url');
  }
  return new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk })
    .setJti(randomUUID())
    .setIssuedAt()
    .sign(privateKey);
}

process.stdout.write(`READY ${JSON.stringify({ alg, jkt })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  process.stdout.write(`${await proof(JSON.parse(line))}\n`);
}

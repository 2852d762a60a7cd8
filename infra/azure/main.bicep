// jwtgate on Azure: a Linux Function App running the custom handler
// (`handler`, built by `make package` into dist/azure-function.zip), with its
// storage account, Application Insights on a Log Analytics workspace, and a
// system-assigned managed identity.
//
// Hosting plan (parameter hostingPlan):
//   FlexConsumption (default, FC1): where new Linux apps go (Linux
//     Consumption is retired on 30 September 2028). The runtime is set in
//     functionAppConfig (runtime custom), not in app settings; the package is
//     deployed into a blob container of the storage account (one deploy);
//     instance memory, maximum instance count and always-ready instances are
//     parameters.
//   Consumption (Y1, Linux): FUNCTIONS_WORKER_RUNTIME=custom; zip deploy runs
//     the package from storage.
//   Premium (EP1, Linux): pre-warmed instances, VNet integration; content on
//     an Azure Files share of the storage account.
// The same dist/azure-function.zip deploys to each:
//
//   az group create --name jwtgate-rg --location westeurope
//   az deployment group create --resource-group jwtgate-rg \
//     --template-file infra/azure/main.bicep \
//     --parameters jwtgateOpenidConfig=https://TENANT.auth0.com/.well-known/openid-configuration \
//                  jwtgateAudiences=https://api.example.com
//   az functionapp deployment source config-zip --resource-group jwtgate-rg \
//     --name <functionAppName output> --src dist/azure-function.zip
//
// Add hostingPlan=Consumption or hostingPlan=Premium to the parameters for
// the other plans (the Azure deploy page has the steps per plan).
//
// Offline checks: infra/check parses this file structurally (parameters,
// resources, app settings, each plan's shape); the bicep compiler is not
// installed there.

targetScope = 'resourceGroup'

@description('Region for every resource.')
param location string = resourceGroup().location

@description('Function App name (globally unique: it becomes <name>.azurewebsites.net).')
@minLength(2)
@maxLength(60)
param appName string = 'jwtgate-${uniqueString(resourceGroup().id)}'

@description('Storage account name (3-24 lowercase letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param storageAccountName string = 'stjwtgate${uniqueString(resourceGroup().id)}'

@description('Hosting plan: FlexConsumption (FC1), Consumption (Y1, Linux) or Premium (EP1).')
@allowed([
  'FlexConsumption'
  'Consumption'
  'Premium'
])
param hostingPlan string = 'FlexConsumption'

@description('Flex Consumption: memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Flex Consumption: most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Flex Consumption: always-ready instances for the HTTP functions (0: scale to zero; each one is billed while idle).')
@minValue(0)
@maxValue(1000)
param alwaysReadyInstances int = 0

@description('Flex Consumption: blob container of the storage account that holds the deployed package.')
@minLength(3)
@maxLength(63)
param deploymentContainerName string = 'app-package'

@description('Days Log Analytics keeps the logs and Application Insights data.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

// Every JWTGATE_ setting the code reads (shared/config.Settings), one
// parameter each, named by lower camel case of the variable. Empty means
// unset (the code's default applies) and is left out of the app settings.
// Key material is @secure(); better still, pass a Key Vault reference
// (@Microsoft.KeyVault(SecretUri=...)), which the app's managed identity
// resolves once it has "Key Vault Secrets User" on the vault.

// BEGIN settings parameters (go -C infra/check run ./cmd/syncsettings)
@description('JWTGATE_OPENID_CONFIG: comma-separated OpenID discovery URLs (…/.well-known/openid-configuration).')
param jwtgateOpenidConfig string = ''

@description('JWTGATE_JWKS_URL: comma-separated JWKS URLs, for issuers without discovery (needs JWTGATE_ISSUERS).')
param jwtgateJwksUrl string = ''

@description('JWTGATE_ISSUERS: comma-separated accepted iss values (exact match, or a template holding {tenantid}); also vouches for a discovery document that announces an issuer other than its URL\'s. Empty: each discovery document\'s issuer.')
param jwtgateIssuers string = ''

@description('JWTGATE_TENANTS: comma-separated accepted Entra tenant ids (GUIDs), or "*" for any tenant; required when an issuer holds {tenantid}.')
param jwtgateTenants string = ''

@description('JWTGATE_CLIENT_IDS: comma-separated accepted client (application) ids, matched against the first of azp, appid, client_id, cid (403 client_not_allowed).')
param jwtgateClientIds string = ''

@description('JWTGATE_TOKEN_USE: access or id: the token_use claim (Cognito) every token must carry.')
param jwtgateTokenUse string = ''

@description('JWTGATE_ENTRA_AUTHORITY: Entra authority for APIM validate-azure-ad-token imports: discovery at {authority}/{tenant-id}/v2.0/.well-known/openid-configuration. Empty: https://login.microsoftonline.com.')
param jwtgateEntraAuthority string = ''

@minLength(1)
@description('JWTGATE_AUDIENCES: comma-separated accepted aud values (any one matches; a token without aud is judged by its client_id); "*" disables the audience check explicitly.')
param jwtgateAudiences string

@description('JWTGATE_ALGORITHMS: comma-separated allowed JWS algorithms; none is always refused, HS* only with JWTGATE_HMAC_SECRETS. Empty: RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512,EdDSA (+HS256,HS384,HS512 when secrets are configured).')
param jwtgateAlgorithms string = ''

@description('JWTGATE_CLOCK_SKEW: Go duration allowed on exp, nbf and iat (0 to 10m). Empty: 30s.')
param jwtgateClockSkew string = ''

@description('JWTGATE_REQUIRE_EXPIRATION: refuse tokens without exp. Empty: true.')
param jwtgateRequireExpiration string = ''

@description('JWTGATE_TOKEN_TYPES: comma-separated allowed header typ values, e.g. at+jwt (empty: any).')
param jwtgateTokenTypes string = ''

@description('JWTGATE_MAX_TOKEN_BYTES: largest accepted token, in bytes (512 to 1048576). Empty: 16384.')
param jwtgateMaxTokenBytes string = ''

@description('JWTGATE_TOKEN_HEADER: request header carrying the token ("-" or "none": no header). Empty: Authorization.')
param jwtgateTokenHeader string = ''

@description('JWTGATE_TOKEN_SCHEME: scheme before the token in the header ("-" or "none": the header holds the bare token). Empty: Bearer.')
param jwtgateTokenScheme string = ''

@description('JWTGATE_TOKEN_QUERY: query parameter carrying the token.')
param jwtgateTokenQuery string = ''

@description('JWTGATE_TOKEN_COOKIE: cookie carrying the token.')
param jwtgateTokenCookie string = ''

@description('JWTGATE_TOKEN_SUBPROTOCOL: Sec-WebSocket-Protocol marker (e.g. jwtgate.bearer): the protocol after it is the token (WebSocket clients that cannot set headers).')
param jwtgateTokenSubprotocol string = ''

@description('JWTGATE_REQUIRED_SCOPES: space-separated scopes that must all be present (scope string, or scp string/array).')
param jwtgateRequiredScopes string = ''

@description('JWTGATE_REQUIRED_CLAIMS: space-separated required claims: name[=v1,v2][;match=all|any][;separator=X].')
param jwtgateRequiredClaims string = ''

@description('JWTGATE_RULE: CEL rule every allowed request must also satisfy, e.g. claims.tenant == request.path.split(\'/\')[1] (see docs/rules.md).')
param jwtgateRule string = ''

@description('JWTGATE_RULE_COST_LIMIT: CEL cost bound on one evaluation of one rule (1000 to 1000000000); over it the request is refused with rule_error. Empty: 1000000.')
param jwtgateRuleCostLimit string = ''

@description('JWTGATE_HTTP_TIMEOUT: bound on one key fetch (discovery plus JWKS together; up to 1m). Empty: 2s.')
param jwtgateHttpTimeout string = ''

@description('JWTGATE_JWKS_COOLDOWN: least time between two JWKS fetches caused by unknown kids (1s to 1h). Empty: 30s.')
param jwtgateJwksCooldown string = ''

@description('JWTGATE_JWKS_REFRESH: JWKS refresh interval when the response has no max-age (5m to 24h). Empty: 1h.')
param jwtgateJwksRefresh string = ''

@description('JWTGATE_JWKS_MAX_STALENESS: how long the last good keys are served while the IdP is unreachable (JWTGATE_JWKS_REFRESH to 30 days). Empty: 24h.')
param jwtgateJwksMaxStaleness string = ''

@description('JWTGATE_WARMUP_TIMEOUT: bound on the key prefetch at start-up (0: no prefetch; up to 30s). Empty: 1s.')
param jwtgateWarmupTimeout string = ''

@description('JWTGATE_TOKEN_CACHE_SIZE: verified tokens kept in memory (0 disables the cache). Empty: 10000.')
param jwtgateTokenCacheSize string = ''

@description('JWTGATE_TOKEN_CACHE_TTL: longest time a verified token is cached, also the most an AppSync answer may be cached (never past its exp). Empty: 5m.')
param jwtgateTokenCacheTtl string = ''

@description('JWTGATE_FORWARD_CLAIMS: comma-separated extra claims put in the authorizer context / identity headers.')
param jwtgateForwardClaims string = ''

@description('JWTGATE_CLAIM_HEADERS: claim=Header pairs for identity headers ("-" or "none": no headers). Empty: sub=X-Auth-Subject,scope=X-Auth-Scopes,iss=X-Auth-Issuer.')
param jwtgateClaimHeaders string = ''

@description('JWTGATE_USAGE_IDENTIFIER_CLAIM: claim returned as the Lambda authorizer\'s usageIdentifierKey.')
param jwtgateUsageIdentifierClaim string = ''

@description('JWTGATE_HTTPAPI_RESPONSE: HTTP API (payload 2.0) answer: simple or iam. Empty: simple.')
param jwtgateHttpapiResponse string = ''

@description('JWTGATE_JWKS: static JWKS: inline JSON, or @/path/file.json.')
param jwtgateJwks string = ''

@description('JWTGATE_PUBLIC_KEYS: static PEM public keys or certificates: PEM text, or @/path/file.pem.')
param jwtgatePublicKeys string = ''

@secure()
@description('JWTGATE_HMAC_SECRETS: comma-separated base64 HMAC secrets (at least 32 bytes), each optionally prefixed kid:.')
param jwtgateHmacSecrets string = ''

@description('JWTGATE_SEED_JWKS: JWKS used until the first successful fetch: inline JSON, or @/path/file.json.')
param jwtgateSeedJwks string = ''

@secure()
@description('JWTGATE_DECRYPTION_KEYS: comma-separated JWE keys: base64 secret or @/path/rsa-private.pem, each optionally prefixed kid:.')
param jwtgateDecryptionKeys string = ''

@description('JWTGATE_POLICY_FILE: path to a policy file (YAML or JSON); environment variables override it.')
param jwtgatePolicyFile string = ''

@description('JWTGATE_APIM_POLICY_FILE: path to an Azure API Management policy XML; its <validate-jwt> is the config.')
param jwtgateApimPolicyFile string = ''

@description('JWTGATE_DPOP_ALGORITHMS: comma-separated DPoP proof algorithms (asymmetric only; never none or HS*). Empty: ES256,ES384,ES512,RS256,PS256,EdDSA.')
param jwtgateDpopAlgorithms string = ''

@description('JWTGATE_DPOP_MAX_AGE: oldest accepted DPoP proof (its iat), plus the clock skew (1s to 10m). Empty: 60s.')
param jwtgateDpopMaxAge string = ''

@secure()
@description('JWTGATE_REPLAY_STORE: where DPoP proofs are remembered against replay: memory (per instance) or redis://host:port/db, rediss://… (shared). Empty: memory.')
param jwtgateReplayStore string = ''

@description('JWTGATE_PUBLIC_URL: scheme://host[:port][/prefix] the clients call; a DPoP proof\'s htu is it plus the request path (empty: https:// and the request\'s host).')
param jwtgatePublicUrl string = ''

@description('JWTGATE_CLIENT_CERT_HEADER: Azure handler / forward-auth: header a trusted front end puts the client certificate in (X-ARR-ClientCert, X-Forwarded-Client-Cert, …; empty: none).')
param jwtgateClientCertHeader string = ''

@description('JWTGATE_REQUIRE_BOUND_TOKENS: refuse every token without cnf (DPoP- or certificate-bound only). Empty: false.')
param jwtgateRequireBoundTokens string = ''

@description('JWTGATE_LISTEN_HOST: Azure handler: interface to listen on (e.g. 0.0.0.0 as a standalone forward-auth service in a container). Empty: 127.0.0.1.')
param jwtgateListenHost string = ''

@description('JWTGATE_LOG_LEVEL: decision log level: debug, info (every decision), warn (refusals and faults only) or error (faults only); on Lambda raised to AWS_LAMBDA_LOG_LEVEL when that is stricter; metrics are written at every level. Empty: info.')
param jwtgateLogLevel string = ''

@description('JWTGATE_FORWARDED_HEADERS: Azure handler: forward-auth headers trusted for the original method and URI: auto (both families, which must agree), traefik (X-Forwarded-*), nginx (X-Original-*) or none. Empty: auto.')
param jwtgateForwardedHeaders string = ''
// END settings parameters

var jwtgateSettings = [
  // BEGIN settings app-settings (go -C infra/check run ./cmd/syncsettings)
  { name: 'JWTGATE_OPENID_CONFIG', value: jwtgateOpenidConfig }
  { name: 'JWTGATE_JWKS_URL', value: jwtgateJwksUrl }
  { name: 'JWTGATE_ISSUERS', value: jwtgateIssuers }
  { name: 'JWTGATE_TENANTS', value: jwtgateTenants }
  { name: 'JWTGATE_CLIENT_IDS', value: jwtgateClientIds }
  { name: 'JWTGATE_TOKEN_USE', value: jwtgateTokenUse }
  { name: 'JWTGATE_ENTRA_AUTHORITY', value: jwtgateEntraAuthority }
  { name: 'JWTGATE_AUDIENCES', value: jwtgateAudiences }
  { name: 'JWTGATE_ALGORITHMS', value: jwtgateAlgorithms }
  { name: 'JWTGATE_CLOCK_SKEW', value: jwtgateClockSkew }
  { name: 'JWTGATE_REQUIRE_EXPIRATION', value: jwtgateRequireExpiration }
  { name: 'JWTGATE_TOKEN_TYPES', value: jwtgateTokenTypes }
  { name: 'JWTGATE_MAX_TOKEN_BYTES', value: jwtgateMaxTokenBytes }
  { name: 'JWTGATE_TOKEN_HEADER', value: jwtgateTokenHeader }
  { name: 'JWTGATE_TOKEN_SCHEME', value: jwtgateTokenScheme }
  { name: 'JWTGATE_TOKEN_QUERY', value: jwtgateTokenQuery }
  { name: 'JWTGATE_TOKEN_COOKIE', value: jwtgateTokenCookie }
  { name: 'JWTGATE_TOKEN_SUBPROTOCOL', value: jwtgateTokenSubprotocol }
  { name: 'JWTGATE_REQUIRED_SCOPES', value: jwtgateRequiredScopes }
  { name: 'JWTGATE_REQUIRED_CLAIMS', value: jwtgateRequiredClaims }
  { name: 'JWTGATE_RULE', value: jwtgateRule }
  { name: 'JWTGATE_RULE_COST_LIMIT', value: jwtgateRuleCostLimit }
  { name: 'JWTGATE_HTTP_TIMEOUT', value: jwtgateHttpTimeout }
  { name: 'JWTGATE_JWKS_COOLDOWN', value: jwtgateJwksCooldown }
  { name: 'JWTGATE_JWKS_REFRESH', value: jwtgateJwksRefresh }
  { name: 'JWTGATE_JWKS_MAX_STALENESS', value: jwtgateJwksMaxStaleness }
  { name: 'JWTGATE_WARMUP_TIMEOUT', value: jwtgateWarmupTimeout }
  { name: 'JWTGATE_TOKEN_CACHE_SIZE', value: jwtgateTokenCacheSize }
  { name: 'JWTGATE_TOKEN_CACHE_TTL', value: jwtgateTokenCacheTtl }
  { name: 'JWTGATE_FORWARD_CLAIMS', value: jwtgateForwardClaims }
  { name: 'JWTGATE_CLAIM_HEADERS', value: jwtgateClaimHeaders }
  { name: 'JWTGATE_USAGE_IDENTIFIER_CLAIM', value: jwtgateUsageIdentifierClaim }
  { name: 'JWTGATE_HTTPAPI_RESPONSE', value: jwtgateHttpapiResponse }
  { name: 'JWTGATE_JWKS', value: jwtgateJwks }
  { name: 'JWTGATE_PUBLIC_KEYS', value: jwtgatePublicKeys }
  { name: 'JWTGATE_HMAC_SECRETS', value: jwtgateHmacSecrets }
  { name: 'JWTGATE_SEED_JWKS', value: jwtgateSeedJwks }
  { name: 'JWTGATE_DECRYPTION_KEYS', value: jwtgateDecryptionKeys }
  { name: 'JWTGATE_POLICY_FILE', value: jwtgatePolicyFile }
  { name: 'JWTGATE_APIM_POLICY_FILE', value: jwtgateApimPolicyFile }
  { name: 'JWTGATE_DPOP_ALGORITHMS', value: jwtgateDpopAlgorithms }
  { name: 'JWTGATE_DPOP_MAX_AGE', value: jwtgateDpopMaxAge }
  { name: 'JWTGATE_REPLAY_STORE', value: jwtgateReplayStore }
  { name: 'JWTGATE_PUBLIC_URL', value: jwtgatePublicUrl }
  { name: 'JWTGATE_CLIENT_CERT_HEADER', value: jwtgateClientCertHeader }
  { name: 'JWTGATE_REQUIRE_BOUND_TOKENS', value: jwtgateRequireBoundTokens }
  { name: 'JWTGATE_LISTEN_HOST', value: jwtgateListenHost }
  { name: 'JWTGATE_LOG_LEVEL', value: jwtgateLogLevel }
  { name: 'JWTGATE_FORWARDED_HEADERS', value: jwtgateForwardedHeaders }
  // END settings app-settings
]

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${appName}-logs'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${appName}-ai'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    RetentionInDays: logRetentionDays
  }
}

// The Functions host keeps its keys and locks here; zip deploy stores the
// package here (Flex: the deployment container; Consumption: run from
// package; Premium: the content share). Those deploy paths are set up with
// the account key, so AzureWebJobsStorage is a connection string; no blob
// is public and TLS 1.2 is the floor.
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
  }
}

var isFlex = hostingPlan == 'FlexConsumption'
var isPremium = hostingPlan == 'Premium'

// Flex Consumption keeps the package in this container (one deploy).
resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = if (isFlex) {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = if (isFlex) {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

var planSku = {
  FlexConsumption: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  Consumption: {
    name: 'Y1'
    tier: 'Dynamic'
  }
  Premium: {
    name: 'EP1'
    tier: 'ElasticPremium'
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${appName}-plan'
  location: location
  kind: isPremium ? 'elastic' : 'functionapp'
  sku: planSku[hostingPlan]
  properties: {
    reserved: true // Linux
  }
}

var storageConnection = 'DefaultEndpointsProtocol=https;AccountName=${storage.name};EndpointSuffix=${environment().suffixes.storage};AccountKey=${storage.listKeys().keys[0].value}'

// Flex Consumption: the runtime, scale and deployment storage. The other
// plans take the runtime from FUNCTIONS_WORKER_RUNTIME instead, which Flex
// refuses (as it refuses FUNCTIONS_EXTENSION_VERSION).
var flexConfig = {
  deployment: {
    storage: {
      type: 'blobContainer'
      value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
      authentication: {
        type: 'StorageAccountConnectionString'
        storageAccountConnectionStringName: 'DEPLOYMENT_STORAGE_CONNECTION_STRING'
      }
    }
  }
  scaleAndConcurrency: {
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReady: alwaysReadyInstances > 0 ? [
      { name: 'http', instanceCount: alwaysReadyInstances }
    ] : []
  }
  runtime: {
    name: 'custom'
    version: '1.0'
  }
}

// App settings that differ per plan.
var classicRuntimeSettings = [
  { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' }
  { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'custom' }
]
var planSettings = {
  FlexConsumption: [
    { name: 'DEPLOYMENT_STORAGE_CONNECTION_STRING', value: storageConnection }
  ]
  Consumption: classicRuntimeSettings
  Premium: concat(classicRuntimeSettings, [
    { name: 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING', value: storageConnection }
    { name: 'WEBSITE_CONTENTSHARE', value: toLower(appName) }
  ])
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  kind: 'functionapp,linux'
  // Used to resolve Key Vault references in the JWTGATE_ settings (HMAC
  // secrets, decryption keys) without any credential in the app settings.
  identity: {
    type: 'SystemAssigned'
  }
  dependsOn: [
    deploymentContainer
  ]
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: isFlex ? flexConfig : null
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: concat([
        { name: 'AzureWebJobsStorage', value: storageConnection }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsights.properties.ConnectionString }
      ], planSettings[hostingPlan], filter(jwtgateSettings, s => !empty(s.value)))
    }
  }
}

@description('Hosting plan SKU the app runs on (FC1, Y1 or EP1).')
output planSku string = planSku[hostingPlan].name

@description('Function App name, for az functionapp deployment source config-zip / func azure functionapp publish.')
output functionAppName string = functionApp.name

@description('Host name of the Function App.')
output defaultHostName string = functionApp.properties.defaultHostName

@description('The authorize function (route authorize/{*path}): a proxied call or a forward-auth target.')
output authorizeUrl string = 'https://${functionApp.properties.defaultHostName}/api/authorize'

@description('Object id of the app\'s managed identity, for Key Vault role assignments.')
output principalId string = functionApp.identity.principalId

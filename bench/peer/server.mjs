// The peer for `make bench`: node-oidc-provider (OpenID Certified) configured for the same
// work as our identity provider, in one Node process keeping its state in memory
// (adapter.mjs).
//
// Environment: PEER_PORT, PEER_ADMIN_PORT, PEER_ALG (RS256 or ES256: access and ID tokens),
// PEER_CLIENT_ID, PEER_CLIENT_SECRET, PEER_REDIRECT_URI (the same client as on our side).
// The admin port (loopback, not measured) pre-mints codes, refresh tokens and a member's
// access token for the load generator: POST /seed {"kind": "codes"|"refresh"|"access", "n": N}.
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

import MapAdapter from './adapter.mjs';

const port = Number(process.env.PEER_PORT || 5100);
const adminPort = Number(process.env.PEER_ADMIN_PORT || 5101);
const alg = process.env.PEER_ALG || 'RS256';
const issuer = `http://127.0.0.1:${port}`;
// Access tokens are RFC 9068 JWTs for this audience, as ours (aud = issuer).
const resource = issuer;
const clientId = process.env.PEER_CLIENT_ID;
const clientSecret = process.env.PEER_CLIENT_SECRET;
const redirectUri = process.env.PEER_REDIRECT_URI;
const accountId = 'bench-member';
// The PKCE verifier every pre-minted code is bound to (S256 of the verifier below).
const codeChallenge = process.env.PEER_CODE_CHALLENGE;

if (!clientId || !clientSecret || !redirectUri || !codeChallenge) {
  console.error('PEER_CLIENT_ID, PEER_CLIENT_SECRET, PEER_REDIRECT_URI and PEER_CODE_CHALLENGE are required');
  process.exit(2);
}

function jwk(type, options) {
  return generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' });
}

// As many keys as our JWKS publishes (an active and a next key per algorithm); the first key
// of the requested algorithm signs.
const rsa = [jwk('rsa', { modulusLength: 2048 }), jwk('rsa', { modulusLength: 2048 })];
const ec = [jwk('ec', { namedCurve: 'P-256' }), jwk('ec', { namedCurve: 'P-256' })];
const keys = [...rsa.map((k) => ({ ...k, use: 'sig', alg: 'RS256' })), ...ec.map((k) => ({ ...k, use: 'sig', alg: 'ES256' }))];

const claims = {
  sub: accountId,
  name: 'Siti Rahayu',
  birthdate: '1990-07-15',
  locale: 'id',
  email: 'bench@example.id',
  email_verified: true,
  membership_number: '99000000001',
  employer_name: 'PT Sinar Jaya',
};

const provider = new Provider(issuer, {
  adapter: MapAdapter,
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: alg,
    scope: 'openid profile email membership offline_access',
  }],
  jwks: { keys },
  claims: {
    openid: ['sub'],
    profile: ['name', 'birthdate', 'locale', 'updated_at'],
    email: ['email', 'email_verified'],
    membership: ['membership_number', 'employer_name'],
  },
  scopes: ['openid', 'offline_access', 'api'],
  async findAccount(_ctx, sub) {
    return sub === accountId ? { accountId, claims: () => claims } : undefined;
  },
  pkce: { required: () => true },
  ttl: {
    // The same lifetimes as our defaults ([tokens] in config.example.toml).
    AccessToken: 300,
    AuthorizationCode: 60,
    ClientCredentials: 300,
    IdToken: 600,
    RefreshToken: 604800,
    Grant: 2592000,
  },
  // Ours rotates every refresh token on use; so does the peer here.
  rotateRefreshToken: () => true,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: 'api',
        audience: resource,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg } },
      }),
    },
  },
  enabledJWA: {
    idTokenSigningAlgValues: ['RS256', 'ES256'],
  },
});

provider.on('server_error', (_ctx, error) => console.error('server_error', error));

// One grant per pre-minted code or refresh token, as one sign-in makes one grant.
async function newGrant() {
  const grant = new provider.Grant({ accountId, clientId });
  grant.addOIDCScope('openid profile email membership offline_access');
  grant.addResourceScope(resource, 'api');
  return grant.save();
}

const mint = {
  async codes(client, n) {
    const values = [];
    for (let i = 0; i < n; i += 1) {
      const code = new provider.AuthorizationCode({
        accountId,
        client,
        grantId: await newGrant(),
        scope: 'openid offline_access api',
        resource,
        redirectUri,
        codeChallenge,
        codeChallengeMethod: 'S256',
        authTime: Math.floor(Date.now() / 1000),
        acr: 'pwd',
        amr: ['pwd'],
        nonce: `n-${i}`,
      });
      values.push(await code.save());
    }
    return values;
  },
  async refresh(client, n) {
    const values = [];
    for (let i = 0; i < n; i += 1) {
      const token = new provider.RefreshToken({
        accountId,
        client,
        grantId: await newGrant(),
        gty: 'authorization_code',
        // Like ours: a refresh answers with an access token and a new refresh token only.
        scope: 'offline_access api',
        resource,
        rotations: 0,
        authTime: Math.floor(Date.now() / 1000),
        acr: 'pwd',
        amr: ['pwd'],
      });
      values.push(await token.save());
    }
    return values;
  },
  async access(client) {
    // A member's access token for userinfo and introspection (opaque: node-oidc-provider
    // serves userinfo only for tokens without a resource audience).
    const token = new provider.AccessToken({
      accountId,
      client,
      grantId: await newGrant(),
      gty: 'authorization_code',
      scope: 'openid profile email membership',
    });
    return [await token.save()];
  },
};

const admin = http.createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  try {
    const { kind, n } = JSON.parse(body || '{}');
    if (req.method !== 'POST' || req.url !== '/seed' || !mint[kind]) {
      res.writeHead(404).end();
      return;
    }
    const client = await provider.Client.find(clientId);
    const values = await mint[kind](client, Number(n) || 1);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ values }));
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
  }
});

provider.listen(port, '127.0.0.1', () => {
  admin.listen(adminPort, '127.0.0.1', () => {
    console.log(`peer ready: ${issuer} (${alg}), admin on ${adminPort}`);
  });
});

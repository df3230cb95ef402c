// The local OpenID provider Tokentray's tests run against.
//
// An in-memory `oidc-provider` on 127.0.0.1 with a development login form
// that accepts any login and password. Configured by environment variables
// (see README.md in this folder); prints `IDP_READY <issuer>` once it listens.

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import process from 'node:process';

import Provider from 'oidc-provider';

function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number.parseInt(raw, 10);
  if (!Number.isInteger(value) || value < 0 || String(value) !== raw.trim()) {
    console.error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

const port = envInt('IDP_PORT', 0);
const accessTokenTtl = envInt('IDP_ACCESS_TOKEN_TTL', 300);
const refreshTokenTtl = envInt('IDP_REFRESH_TOKEN_TTL', 86400);
const confidentialSecret = process.env.IDP_CONFIDENTIAL_SECRET || 'tokentray-test-secret';

// Optional features, all off by default (the defaults are what the Rust
// tests rely on): TLS, a path prefix in the issuer, and an empty HTTP Basic
// secret accepted from the public client.
const tlsCert = process.env.IDP_TLS_CERT || '';
const tlsKey = process.env.IDP_TLS_KEY || '';
if (Boolean(tlsCert) !== Boolean(tlsKey)) {
  console.error('IDP_TLS_CERT and IDP_TLS_KEY must be set together');
  process.exit(2);
}
const pathPrefix = (process.env.IDP_PATH_PREFIX || '').replace(/\/+$/, '');
if (pathPrefix && !/^(\/[A-Za-z0-9._~-]+)+$/.test(pathPrefix)) {
  console.error(`IDP_PATH_PREFIX must look like /oidc, got ${JSON.stringify(process.env.IDP_PATH_PREFIX)}`);
  process.exit(2);
}
const acceptEmptyBasicSecret = process.env.IDP_PUBLIC_EMPTY_BASIC_SECRET === '1';
const canary = process.env.IDP_CANARY || '';
if (canary && !/^[A-Za-z0-9]{8,64}$/.test(canary)) {
  console.error(`IDP_CANARY must be 8-64 letters and digits, got ${JSON.stringify(canary)}`);
  process.exit(2);
}

const PUBLIC_CLIENT_ID = 'tokentray-public';
const CONFIDENTIAL_CLIENT_ID = 'tokentray-confidential';

const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
const API_SCOPES = ['api.read', 'api.write'];

// Claims derived from whatever the tester typed as login: `alice` or
// `alice@example.org`.
function claimsFor(login) {
  const local = login.includes('@') ? login.slice(0, login.indexOf('@')) : login;
  const email = login.includes('@') ? login : `${login}@example.test`;
  const name = local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join(' ') || login;
  return {
    sub: login,
    ...(canary ? { tt_canary: `${canary}idtoken` } : {}),
    name,
    preferred_username: login,
    email,
    email_verified: true,
  };
}

function configuration() {
  return {
    clients: [
      {
        client_id: PUBLIC_CLIENT_ID,
        client_name: 'Tokentray (public native client)',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        // Loopback redirects of native clients match on any port (RFC 8252 7.3);
        // the path must match exactly.
        redirect_uris: [
          'http://127.0.0.1/callback',
          'http://127.0.0.1/',
          'http://[::1]/callback',
          'http://[::1]/',
        ],
        response_types: ['code'],
        grant_types: [
          'authorization_code',
          'refresh_token',
          'urn:ietf:params:oauth:grant-type:device_code',
        ],
        scope: [...OIDC_SCOPES, ...API_SCOPES].join(' '),
      },
      {
        client_id: CONFIDENTIAL_CLIENT_ID,
        client_name: 'Tokentray (confidential daemon client)',
        client_secret: confidentialSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        scope: API_SCOPES.join(' '),
      },
    ],
    scopes: [...OIDC_SCOPES, ...API_SCOPES],
    claims: {
      openid: canary ? ['sub', 'tt_canary'] : ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          return claimsFor(id);
        },
      };
    },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      // Opaque access tokens: no resource indicator is ever resolved, so
      // every token stays introspectable and revocable.
      resourceIndicators: { enabled: false },
    },
    pkce: {
      required: () => true,
    },
    // A public client's refresh token is replaced at every use; replaying
    // the old one is `invalid_grant` (and revokes the grant).
    rotateRefreshToken: true,
    // offline_access yields a refresh token, on the authorization code, the
    // device code and every refresh.
    async issueRefreshToken(_ctx, client, source) {
      return client.grantTypeAllowed('refresh_token') && source.scopes.has('offline_access');
    },
    async expiresWithSession(_ctx, source) {
      return !source.scopes.has('offline_access');
    },
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      IdToken: Math.max(accessTokenTtl, 60),
      RefreshToken: refreshTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: 600,
      Interaction: 3600,
      Session: Math.max(refreshTokenTtl, 3600),
      Grant: Math.max(refreshTokenTtl, 3600),
    },
    cookies: {
      keys: ['tokentray-test-idp-cookie-key'],
    },
    // With a canary, the ID token carries the scopes' claims (tt_canary
    // among them) instead of leaving them to the userinfo endpoint.
    conformIdTokenClaims: !canary,
    renderError(ctx, out) {
      ctx.type = 'html';
      const rows = Object.entries(out)
        .map(([key, value]) => `<pre id="${key}">${key}: ${String(value).replace(/[<>&]/g, '')}</pre>`)
        .join('\n');
      ctx.body = `<!DOCTYPE html><html><head><title>oops! something went wrong</title></head><body>${rows}</body></html>`;
    },
  };
}

// OIDC Core drops `offline_access` from an authorization request unless it
// carries `prompt=consent`. Real providers (Entra ID) issue refresh tokens
// without it, so this rig adds the consent prompt itself: clients behave as
// they would against a real provider, and the grant records offline_access.
function offlineAccessNeedsNoPromptConsent(ctx, next) {
  if (ctx.method === 'GET' && ctx.path === '/auth') {
    const params = new URLSearchParams(ctx.querystring);
    const scopes = (params.get('scope') || '').split(' ');
    const prompts = (params.get('prompt') || '').split(' ').filter(Boolean);
    if (scopes.includes('offline_access') && !prompts.includes('none') && !prompts.includes('consent')) {
      prompts.push('consent');
      params.set('prompt', prompts.join(' '));
      ctx.querystring = params.toString();
    }
  }
  return next();
}

// Token requests seen, by grant type and outcome, for tests that must prove
// how many requests reached the provider (e.g. one refresh for 200 callers).
// Read with GET /test/stats.
const stats = {};
function count(ctx, outcome) {
  const grant = (ctx.oidc && ctx.oidc.params && ctx.oidc.params.grant_type) || 'unknown';
  stats[grant] = stats[grant] || { success: 0, error: 0 };
  stats[grant][outcome] += 1;
}

// Revocations of refresh tokens, by whether the token was still live (the
// newest of its family) or already consumed by a rotation, counted as the
// pseudo grant types `revoked_live_refresh_token` and
// `revoked_consumed_refresh_token`: a sign-out must revoke the live one.
async function countRevocations(ctx, next) {
  await next();
  const token = ctx.oidc && ctx.oidc.route === 'revocation'
    && ctx.oidc.entities && ctx.oidc.entities.RefreshToken;
  if (!token) return;
  const grant = token.consumed ? 'revoked_consumed_refresh_token' : 'revoked_live_refresh_token';
  stats[grant] = stats[grant] || { success: 0, error: 0 };
  stats[grant].success += 1;
}

function testStats(ctx, next) {
  if (ctx.method === 'GET' && ctx.path === '/test/stats') {
    ctx.type = 'json';
    ctx.body = stats;
    return undefined;
  }
  return next();
}

// IDP_CANARY: every secret the provider hands out carries the canary as a
// prefix (access, refresh and client-credentials tokens, authorization and
// device codes) and ID tokens carry a `tt_canary` claim, so a leak anywhere
// (a log, a file, a panic message) is found with grep. Opaque token values
// are their ids, so the ids get the prefix.
function withCanaryIds(provider) {
  if (!canary) return;
  const kinds = {
    AccessToken: 'at',
    RefreshToken: 'rt',
    ClientCredentials: 'cc',
    AuthorizationCode: 'code',
    DeviceCode: 'dc',
  };
  for (const [model, kind] of Object.entries(kinds)) {
    const proto = provider[model].prototype;
    const generate = proto.generateTokenId;
    proto.generateTokenId = function generateCanaryTokenId(...args) {
      return `${canary}${kind}${generate.apply(this, args)}`;
    };
  }
}

// IDP_PATH_PREFIX: the provider answers under the prefix (the issuer ends
// with it), as if mounted there; `originalUrl` tells it its mount path.
// Requests outside the prefix get 404.
function mountedAtPrefix(req, res) {
  if (!pathPrefix) return true;
  const url = req.url || '/';
  if (url === pathPrefix || url.startsWith(`${pathPrefix}/`) || url.startsWith(`${pathPrefix}?`)) {
    req.originalUrl = url;
    req.baseUrl = pathPrefix;
    const rest = url.slice(pathPrefix.length);
    req.url = rest.startsWith('/') ? rest : `/${rest}`;
    return true;
  }
  res.statusCode = 404;
  res.end();
  return false;
}

// IDP_PUBLIC_EMPTY_BASIC_SECRET=1: some clients (oidc-agent) send
// `Authorization: Basic base64(client_id:)` even for a public client. For
// tokentray-public, such a header is turned into `client_id` in the form
// body (token_endpoint_auth_method stays `none`).
function readAll(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > 56 * 1024) {
        reject(new Error('request entity too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function emptyBasicSecretClient(req) {
  const header = req.headers.authorization || '';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(colon + 1) !== '') return null;
  const clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
  return clientId === PUBLIC_CLIENT_ID ? clientId : null;
}

async function publicClientWithoutSecret(req) {
  if (!acceptEmptyBasicSecret || req.method !== 'POST') return;
  const clientId = emptyBasicSecretClient(req);
  if (!clientId) return;
  const contentType = (req.headers['content-type'] || '').toLowerCase();
  if (!contentType.startsWith('application/x-www-form-urlencoded')) return;
  const params = new URLSearchParams(await readAll(req));
  if (params.has('client_id') && params.get('client_id') !== clientId) return;
  params.set('client_id', clientId);
  delete req.headers.authorization;
  const body = params.toString();
  req.headers['content-length'] = String(Buffer.byteLength(body));
  // oidc-provider reads an already parsed body from `req.body`.
  req.body = body;
}

const server = tlsCert
  ? https.createServer({ cert: fs.readFileSync(tlsCert), key: fs.readFileSync(tlsKey) })
  : http.createServer();

server.listen(port, '127.0.0.1', () => {
  const { port: actualPort } = server.address();
  const issuer = `${tlsCert ? 'https' : 'http'}://127.0.0.1:${actualPort}${pathPrefix}`;
  const provider = new Provider(issuer, configuration());
  withCanaryIds(provider);
  provider.use(offlineAccessNeedsNoPromptConsent);
  provider.use(testStats);
  provider.use(countRevocations);
  provider.on('grant.success', (ctx) => count(ctx, 'success'));
  provider.on('grant.error', (ctx) => count(ctx, 'error'));
  provider.on('server_error', (_ctx, err) => {
    console.error('server_error', err);
  });
  const callback = provider.callback();
  if (!pathPrefix && !acceptEmptyBasicSecret) {
    server.on('request', callback);
  } else {
    server.on('request', (req, res) => {
      if (!mountedAtPrefix(req, res)) return;
      publicClientWithoutSecret(req).then(
        () => callback(req, res),
        (err) => {
          res.statusCode = 400;
          res.end();
          console.error('idp: cannot read request body:', err.message);
        },
      );
    });
  }
  process.stdout.write(`IDP_READY ${issuer}\n`);
});

server.on('error', (err) => {
  console.error(`cannot listen on 127.0.0.1:${port}: ${err.message}`);
  process.exit(1);
});

function shutdown(signal) {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  // A stuck connection must not keep the process alive.
  setTimeout(() => process.exit(0), 1000).unref();
  console.error(`idp: ${signal}, shutting down`);
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

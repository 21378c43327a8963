// An OAuth 2.1 server none of us wrote, for twg's interop tests: panva's oidc-provider
// with its development sign-in pages, device flow, revocation and rotating refresh tokens.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 0);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: 'twg-cli',
    application_type: 'native', // RFC 8252: any port on the loopback redirect
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1/callback'],
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
  }],
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
  },
  pkce: { required: () => true, methods: ['S256'] },
  scopes: ['openid', 'offline_access', 'email'],
  claims: { openid: ['sub'], email: ['email'] },
  findAccount: async (ctx, id) => ({ accountId: id, async claims() { return { sub: id, email: id }; } }),
  rotateRefreshToken: true,
  ttl: { AccessToken: 3600, RefreshToken: 30 * 86400, Interaction: 600, Session: 600, Grant: 86400, DeviceCode: 600, IdToken: 3600 },
});
provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));

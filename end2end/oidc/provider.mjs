// A real OpenID provider (the certified `oidc-provider`) for the sign-in specs: one confidential
// client, the portal, and two people in different groups. Its development login page accepts any
// password for a known user name. Usage: node oidc/provider.mjs <port> <portal redirect URI>...
import Provider from "oidc-provider";

const port = Number(process.argv[2]);
const redirectUris = process.argv.slice(3);
export const people = {
  fiona: { name: "Fiona Fintech", email: "fiona@example.com", groups: ["fin-devs"] },
  walt: { name: "Walt Web", email: "walt@example.com", groups: ["web-devs", "all-staff"] },
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: "runway",
    client_secret: "runway-e2e-secret",
    redirect_uris: redirectUris,
    response_types: ["code"],
    grant_types: ["authorization_code"],
  }],
  claims: {
    openid: ["sub"],
    profile: ["name", "preferred_username"],
    email: ["email"],
    groups: ["groups"],
  },
  // The portal reads the groups from the ID token itself, as most providers can be set to send.
  conformIdTokenClaims: false,
  async findAccount(_ctx, id) {
    const person = people[id];
    return person && {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, ...person };
      },
    };
  },
  // The portal is a first-party client: no consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid profile email groups");
    await grant.save();
    return grant;
  },
  cookies: { keys: ["sign-in-specs-only"] },
});
provider.listen(port, "127.0.0.1", () => console.log(`OpenID provider on ${port}`));

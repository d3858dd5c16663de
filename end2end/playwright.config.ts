import { defineConfig } from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3311);
const dataDir = "../target/e2e-data";
// The portal under test: the release build unless told otherwise (`make test` runs the one its
// integration tests built, with the release bundle).
export const portalBin = process.env.E2E_PORTAL_BIN ?? "../target/release/runway";
// The deployment specs' portal, with Buildbot on the two ports after it.
export const deployPort = port + 10;
// The SMTP server the portal mails through, keeping every message in a Maildir the specs read.
export const smtpPort = port + 20;
export const mailDir = "../target/e2e-mail";
// A real OpenID provider (oidc-provider) the portal's "Sign in with Acme SSO" goes through
// (port + 30 is the payload sweep's own portal).
export const oidcPort = port + 40;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: process.env.CI ? "retain-on-failure" : "off",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [{
    // A fresh database for every run, the demo catalog and the demo users.
    command: `rm -rf ${dataDir} && exec ${portalBin} serve`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      RUNWAY_LISTEN: `127.0.0.1:${port}`,
      RUNWAY_DATA_DIR: dataDir,
      RUNWAY_DEMO: "true",
      RUNWAY_DEMO_HISTORY: "false",
      RUNWAY_CATALOG: "../catalog/demo.toml",
      RUNWAY_SITE_DIR: "../target/site",
      RUNWAY_LOG: "warn",
      // These specs follow requests and approvals; the deployment flow has specs of its own.
      RUNWAY_DISPATCH: "false",
      RUNWAY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      RUNWAY_PUBLIC_URL: `http://127.0.0.1:${port}`,
      RUNWAY_OIDC_ISSUER: `http://127.0.0.1:${oidcPort}`,
      RUNWAY_OIDC_CLIENT_ID: "runway",
      RUNWAY_OIDC_CLIENT_SECRET: "runway-e2e-secret",
      RUNWAY_OIDC_SCOPES: "openid profile email groups",
      RUNWAY_OIDC_LABEL: "Acme SSO",
    },
  }, {
    command: `exec node oidc/provider.mjs ${oidcPort} http://127.0.0.1:${port}/auth/oidc/callback`,
    url: `http://127.0.0.1:${oidcPort}/.well-known/openid-configuration`,
    reuseExistingServer: false,
    timeout: 30_000,
  }, {
    command: `rm -rf ${mailDir} && exec ../.tools/buildbot/bin/python -m aiosmtpd -n -l 127.0.0.1:${smtpPort} -c aiosmtpd.handlers.Mailbox ${mailDir}`,
    port: smtpPort,
    reuseExistingServer: false,
    timeout: 30_000,
  }, {
    command: `./deploy-stack.sh ${deployPort}`,
    url: `http://127.0.0.1:${deployPort}/readyz`,
    reuseExistingServer: false,
    timeout: 90_000,
  }],
});

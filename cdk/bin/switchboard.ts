#!/usr/bin/env node
// `npx cdk synth` / `npx cdk deploy` from cdk/. Bundling builds every function with
// `cargo lambda build --release --arm64` (cargo-lambda and zig on PATH; see docs/deploy.md).
import { App } from 'aws-cdk-lib';
import { SwitchboardStack } from '../lib/switchboard-stack';

const app = new App();
// The stack name drives every queue name (<stack>-events.fifo, ...): keep it at or under 64 characters.
new SwitchboardStack(app, app.node.tryGetContext('stackName') ?? 'switchboard', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

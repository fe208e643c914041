// Parity of the CDK stack (lib/switchboard-stack.ts) with the SAM template (../template.yaml).
//
//   ts-node --transpile-only test/parity.ts [--sam translated.json]
//
// Synthesises the CDK app offline (bundling skipped: no cargo, no Docker) and compares it with the
// SAM template after the SAM transform (scripts/sam_translate.py, or the file lint-infra.sh already
// produced, given with --sam). Logical ids differ between the two, so every resource is matched by a
// stable key: functions, buckets and HTTP APIs by their "switchboard:component" tag, queues by their
// name after the stack name, roles by the function or state machine that assumes them, alarms by
// the metric they watch, and so on. Every intrinsic (Ref, GetAtt, Sub, Join) is rendered with those
// keys ("{queue:events.fifo.Arn}"), so "the ingest role may sqs:SendMessage on the events queue"
// reads the same on both sides. Prints every difference and exits 1 on drift, 0 with
// "cdk parity: ok".
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Template = { Resources: Record<string, Json>; Parameters?: Record<string, Json>; Outputs?: Record<string, Json>; Conditions?: Json };

const CDK_DIR = path.resolve(__dirname, '..');
const REPO = path.resolve(CDK_DIR, '..');

// ------------------------------------------------------------------ the two templates

function samTemplate(given?: string): Template {
  if (given) return JSON.parse(fs.readFileSync(given, 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-parity-'));
  try {
    const out = path.join(dir, 'translated.json');
    execFileSync(path.join(REPO, '.venv', 'bin', 'python'),
      [path.join(REPO, 'scripts', 'sam_translate.py'), path.join(REPO, 'template.yaml'), out],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, AWS_DEFAULT_REGION: 'us-east-1', AWS_REGION: 'us-east-1' } });
    return JSON.parse(fs.readFileSync(out, 'utf8'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function cdkTemplate(): Template {
  // CDK writes its output and staging dirs under os.tmpdir(): point that at a dir of our own and
  // delete it afterwards. PATH is an empty dir: cargo-lambda-cdk probes `cargo lambda --version`
  // when a function is constructed, and the test must not run cargo (bundling is skipped anyway).
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-cdk-'));
  const saved = { TMPDIR: process.env.TMPDIR, PATH: process.env.PATH };
  process.env.TMPDIR = tmp;
  fs.mkdirSync(path.join(tmp, 'no-cargo'));
  process.env.PATH = path.join(tmp, 'no-cargo');
  try {
    /* eslint-disable @typescript-eslint/no-var-requires */
    const { App } = require('aws-cdk-lib');
    const { SwitchboardStack } = require('../lib/switchboard-stack');
    /* eslint-enable @typescript-eslint/no-var-requires */
    const app = new App({ outdir: path.join(tmp, 'cdk.out'), context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new SwitchboardStack(app, 'switchboard');
    return app.synth({ validateOnSynthesis: false }).getStackByName(stack.stackName).template;
  } finally {
    process.env.TMPDIR = saved.TMPDIR;
    process.env.PATH = saved.PATH;
    if (saved.TMPDIR === undefined) delete process.env.TMPDIR;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ stable keys and rendering

const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };

function tagOf(props: Json, name = 'switchboard:component'): string | undefined {
  const tags = props?.Tags;
  if (Array.isArray(tags)) return tags.find((t: Json) => t.Key === name)?.Value;
  if (tags && typeof tags === 'object') return tags[name];
  const bodyTags = props?.Body?.tags;
  if (Array.isArray(bodyTags)) return bodyTags.find((t: Json) => t.name === name)?.['x-amazon-apigateway-tag-value'];
  return undefined;
}

class Model {
  readonly keys = new Map<string, string>();

  constructor(readonly t: Template) {
    const R = t.Resources;
    // Pass 1: resources identified by their own properties.
    for (const [id, r] of Object.entries(R)) {
      const p = r.Properties ?? {};
      let key: string | undefined;
      switch (r.Type) {
        case 'AWS::Lambda::Function': key = `fn:${tagOf(p)}`; break;
        case 'AWS::SQS::Queue': key = `queue:${String(this.render(p.QueueName)).replace('{AWS::StackName}-', '')}`; break;
        case 'AWS::DynamoDB::Table': key = 'table'; break;
        case 'AWS::S3::Bucket': key = `bucket:${tagOf(p)}`; break;
        case 'AWS::Events::EventBus': key = 'bus'; break;
        case 'AWS::StepFunctions::StateMachine': key = 'statemachine'; break;
        case 'AWS::ApiGatewayV2::Api': key = `api:${tagOf(p)}`; break;
        case 'AWS::Cognito::UserPool': key = 'userpool'; break;
        case 'AWS::Cognito::UserPoolClient': key = 'userpoolclient'; break;
        case 'AWS::Cognito::UserPoolDomain': key = 'userpooldomain'; break;
        case 'AWS::Cognito::UserPoolGroup': key = `group:${p.GroupName}`; break;
        case 'AWS::CloudFront::Distribution': key = 'distribution'; break;
        case 'AWS::CloudFront::OriginAccessControl': key = 'oac'; break;
        case 'AWS::CloudFront::ResponseHeadersPolicy': key = 'headers'; break;
        case 'AWS::CloudWatch::Dashboard': key = 'dashboard'; break;
        default: break;
      }
      if (key) this.keys.set(id, key);
    }
    // Pass 2: resources identified by what they belong to.
    for (const [id, r] of Object.entries(R)) {
      const p = r.Properties ?? {};
      if (r.Type === 'AWS::Lambda::Function' || r.Type === 'AWS::StepFunctions::StateMachine') {
        const roleId = p.Role?.['Fn::GetAtt']?.[0] ?? (typeof p.RoleArn === 'object' ? p.RoleArn['Fn::GetAtt']?.[0] : undefined);
        if (roleId) this.keys.set(roleId, `role:${this.keys.get(id)}`);
      }
      if (r.Type === 'AWS::ApiGatewayV2::Stage' && p.AccessLogSettings) {
        const lg = p.AccessLogSettings.DestinationArn?.['Fn::GetAtt']?.[0];
        if (lg) this.keys.set(lg, `accesslogs:${this.keys.get(p.ApiId?.Ref)}`);
      }
      if (r.Type === 'AWS::Events::Rule') {
        const types = p.EventPattern?.['detail-type'];
        this.keys.set(id, p.ScheduleExpression ? `schedule:${p.ScheduleExpression}` : `rule:${[...(types ?? [])].sort().join('|')}`);
      }
      if (r.Type === 'AWS::S3::BucketPolicy') this.keys.set(id, `policy:${this.keys.get(p.Bucket?.Ref)}`);
      if (r.Type === 'AWS::SQS::QueuePolicy') this.keys.set(id, `policy:${this.keys.get(p.Queues?.[0]?.Ref)}`);
    }
    // Pass 3: things keyed by rendered references to the above.
    for (const [id, r] of Object.entries(R)) {
      const p = r.Properties ?? {};
      if (r.Type === 'AWS::Logs::LogGroup' && !this.keys.has(id)) this.keys.set(id, `loggroup:${JSON.stringify(this.render(p.LogGroupName))}`);
    }
    for (const [id, r] of Object.entries(R)) {
      const p = r.Properties ?? {};
      if (r.Type === 'AWS::CloudWatch::Alarm') {
        const what = p.MetricName
          ? `${p.Namespace}/${p.MetricName}/${(this.render(p.Dimensions) ?? []).map((d: Json) => `${d.Name}=${d.Value}`).join(',')}`
          : `math:${(p.Metrics ?? []).find((m: Json) => m.ReturnData)?.Expression}`;
        this.keys.set(id, `alarm:${what}`);
      }
      if (r.Type === 'AWS::Logs::MetricFilter') this.keys.set(id, `metricfilter:${this.key(p.LogGroupName?.Ref)}:${p.MetricTransformations?.[0]?.MetricName}`);
    }
  }

  key(id: string): string {
    return this.keys.get(id) ?? `?${this.t.Resources[id]?.Type ?? 'unknown'}`;
  }

  ref(name: string): string {
    if (name in PSEUDO) return PSEUDO[name];
    if (name.startsWith('AWS::')) return `{${name}}`;
    if (this.t.Parameters && name in this.t.Parameters) return `{param:${name}}`;
    return `{${this.key(name)}}`;
  }

  /** Intrinsics rendered with stable keys; literal scalars as strings. */
  render(v: Json): Json {
    if (Array.isArray(v)) return v.map((x) => this.render(x));
    if (v === null || v === undefined) return v;
    if (typeof v !== 'object') return String(v);
    const ks = Object.keys(v);
    if (ks.length === 1) {
      const [k] = ks;
      const a = v[k];
      if (k === 'Ref') return this.ref(a);
      if (k === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(a) ? a : String(a).split(/\.(.+)/);
        return `{${this.key(id)}.${attr}}`;
      }
      if (k === 'Fn::Sub') {
        const [str, vars] = Array.isArray(a) ? a : [a, {}];
        const parts: Json[] = [];
        let last = 0;
        for (const m of String(str).matchAll(/\$\{([^}]+)\}/g)) {
          parts.push(String(str).slice(last, m.index));
          last = m.index! + m[0].length;
          const name = m[1];
          if (name.startsWith('!')) parts.push(`\${${name.slice(1)}}`);
          else if (name in vars) parts.push(this.render(vars[name]));
          else if (name.includes('.') && !name.startsWith('AWS::')) {
            const [id, attr] = name.split(/\.(.+)/);
            parts.push(`{${this.key(id)}.${attr}}`);
          } else parts.push(this.ref(name));
        }
        parts.push(String(str).slice(last));
        return concat(parts);
      }
      if (k === 'Fn::Join') {
        const [sep, list] = a;
        const items = this.render(list);
        if (!Array.isArray(items)) return { join: [sep, items] };
        return concat(items.flatMap((x: Json, i: number) => (i === 0 ? [x] : [sep, x])));
      }
      if (k === 'Fn::If') return { if: [a[0], this.render(a[1]), this.render(a[2])] };
      if (k === 'Fn::Split') return { split: [a[0], this.render(a[1])] };
      if (k.startsWith('Fn::')) return { [k.slice(4).toLowerCase()]: this.render(a) };
    }
    return Object.fromEntries(ks.sort().map((key) => [key, this.render(v[key])]));
  }

  of(type: string): [string, Json][] {
    return Object.entries(this.t.Resources).filter(([, r]) => r.Type === type);
  }

  byKey(type: string, project: (id: string, r: Json) => Json): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (const [id, r] of this.of(type)) out[this.key(id)] = project(id, r);
    return out;
  }

  // ---------------------------------------------------------------- projections

  functions(): Record<string, Json> {
    const esms = this.of('AWS::Lambda::EventSourceMapping');
    return this.byKey('AWS::Lambda::Function', (id, r) => {
      const p = r.Properties;
      return {
        Architectures: this.render(p.Architectures ?? ['x86_64']),
        Runtime: p.Runtime,
        Handler: p.Handler,
        MemorySize: String(p.MemorySize ?? 128),
        Timeout: String(p.Timeout ?? 3),
        Description: p.Description,
        LogFormat: p.LoggingConfig?.LogFormat,
        EnvironmentNames: Object.keys(p.Environment?.Variables ?? {}).sort(),
        Environment: this.render(p.Environment?.Variables ?? {}),
        EventSources: esms
          .filter(([, e]) => e.Properties.FunctionName?.Ref === id)
          .map(([, e]) => ({
            source: this.render(e.Properties.EventSourceArn),
            BatchSize: String(e.Properties.BatchSize),
            FunctionResponseTypes: e.Properties.FunctionResponseTypes ?? [],
          }))
          .sort((x, y) => x.source.localeCompare(y.source)),
      };
    });
  }

  queues(): Record<string, Json> {
    const dlqTargets = new Set(this.of('AWS::SQS::Queue')
      .map(([, r]) => r.Properties.RedrivePolicy?.deadLetterTargetArn?.['Fn::GetAtt']?.[0]).filter(Boolean));
    return this.byKey('AWS::SQS::Queue', (id, r) => {
      const p = r.Properties;
      return {
        role: dlqTargets.has(id) ? 'dlq' : 'main',
        FifoQueue: String(p.FifoQueue ?? false),
        ContentBasedDeduplication: String(p.ContentBasedDeduplication ?? false),
        VisibilityTimeout: String(p.VisibilityTimeout ?? 30),
        MessageRetentionPeriod: String(p.MessageRetentionPeriod ?? 345600),
        SqsManagedSseEnabled: String(p.SqsManagedSseEnabled ?? false),
        RedrivePolicy: p.RedrivePolicy ? {
          deadLetterTarget: this.render(p.RedrivePolicy.deadLetterTargetArn),
          maxReceiveCount: String(p.RedrivePolicy.maxReceiveCount),
        } : null,
        RedriveAllowPolicy: this.render(p.RedriveAllowPolicy ?? null),
      };
    });
  }

  stateMachine(): Json {
    return this.byKey('AWS::StepFunctions::StateMachine', (_id, r) => {
      const p = r.Properties;
      const def = this.render(p.DefinitionString);
      return {
        Type: p.StateMachineType ?? 'STANDARD',
        Definition: typeof def === 'string' ? JSON.parse(def) : def,
        DefinitionSubstitutions: this.render(p.DefinitionSubstitutions ?? {}),
      };
    });
  }

  /** Per role: who may assume it, managed policies, and action -> resources (rendered). */
  iam(): Record<string, Json> {
    const extra = this.of('AWS::IAM::Policy');
    return this.byKey('AWS::IAM::Role', (id, r) => {
      const p = r.Properties;
      const docs: Json[] = (p.Policies ?? []).map((x: Json) => x.PolicyDocument);
      for (const [, pol] of extra) {
        if ((pol.Properties.Roles ?? []).some((x: Json) => x.Ref === id)) docs.push(pol.Properties.PolicyDocument);
      }
      const grants: Record<string, string[]> = {};
      for (const doc of docs) {
        for (const st of [doc.Statement].flat()) {
          const cond = st.Condition ? ` if ${JSON.stringify(this.render(st.Condition))}` : '';
          for (const action of [st.Action].flat()) {
            for (const res of [st.Resource].flat()) {
              const k = `${st.Effect} ${action}`;
              const rendered = this.render(res);
              (grants[k] ??= []).push(`${typeof rendered === 'string' ? rendered : JSON.stringify(rendered)}${cond}`);
            }
          }
        }
      }
      for (const k of Object.keys(grants)) grants[k] = [...new Set(grants[k])].sort();
      const principals = [p.AssumeRolePolicyDocument.Statement].flat()
        .flatMap((s: Json) => [s.Principal?.Service].flat()).filter(Boolean).sort();
      return {
        assumedBy: principals,
        managed: this.render(p.ManagedPolicyArns ?? []).sort(),
        grants: Object.fromEntries(Object.entries(grants).sort(([a], [b]) => a.localeCompare(b))),
      };
    });
  }

  /** Routes of every HTTP API: "METHOD /path" -> target function and authorization. */
  routes(): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (const [id, r] of this.of('AWS::ApiGatewayV2::Api')) {
      const api = this.key(id);
      const body = r.Properties.Body;
      if (body?.paths) { // SAM: an OpenAPI body
        for (const [p, methods] of Object.entries<Json>(body.paths)) {
          for (const [m, op] of Object.entries<Json>(methods)) {
            const method = m === 'x-amazon-apigateway-any-method' ? 'ANY' : m.toUpperCase();
            const uri = String(this.render(op['x-amazon-apigateway-integration']?.uri));
            const sec = (op.security ?? body.security ?? [])[0];
            const auth = sec && Object.keys(sec)[0] !== 'NONE' ? 'JWT' : 'NONE';
            out[`${api} ${method} ${p}`] = { target: /\{(fn:[^}.]+)\.Arn\}/.exec(uri)?.[1], auth };
          }
        }
        continue;
      }
      for (const [, route] of this.of('AWS::ApiGatewayV2::Route').filter(([, x]) => x.Properties.ApiId?.Ref === id)) {
        const integrationId = JSON.stringify(route.Properties.Target).match(/"Ref":"([^"]+)"/)?.[1] ?? '';
        const uri = String(this.render(this.t.Resources[integrationId]?.Properties?.IntegrationUri));
        out[`${api} ${route.Properties.RouteKey}`] = {
          target: /\{(fn:[^}.]+)\.Arn\}/.exec(uri)?.[1],
          auth: route.Properties.AuthorizationType === 'JWT' ? 'JWT' : 'NONE',
        };
      }
    }
    return out;
  }

  /** JWT authorizers: issuer and audience per API. */
  authorizers(): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (const [id, r] of this.of('AWS::ApiGatewayV2::Api')) {
      const schemes = r.Properties.Body?.components?.securitySchemes ?? {};
      for (const s of Object.values<Json>(schemes)) {
        const c = s['x-amazon-apigateway-authorizer']?.jwtConfiguration;
        if (c) out[this.key(id)] = { issuer: this.render(c.issuer), audience: this.render(c.audience) };
      }
      for (const [, a] of this.of('AWS::ApiGatewayV2::Authorizer').filter(([, x]) => x.Properties.ApiId?.Ref === id)) {
        const c = a.Properties.JwtConfiguration;
        out[this.key(id)] = { issuer: this.render(c.Issuer), audience: this.render(c.Audience) };
      }
    }
    return out;
  }

  /**
   * CORS of every HTTP API. SAM: an OpenAPI extension, conditional as a whole (an !If around the
   * configuration); CDK: CorsConfiguration with a conditional AllowOrigins. Both are brought to
   * {origins: {if: [...]}, ...}. The SAM transform resolves parameters inside it with their values
   * (the defaults, offline), so the CDK side's parameters are replaced by their defaults too.
   */
  cors(): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (const [id, r] of this.of('AWS::ApiGatewayV2::Api')) {
      let c = r.Properties.Body?.['x-amazon-apigateway-cors'];
      let origins: Json;
      if (c?.['Fn::If']) {
        const [cond, a, b] = c['Fn::If'];
        origins = { if: [cond, this.render(a.allowOrigins), this.render(b.allowOrigins)] };
        const rest = (x: Json) => JSON.stringify({ ...x, allowOrigins: undefined });
        if (rest(a) !== rest(b)) out[`${this.key(id)} (branches differ)`] = [a, b];
        c = a;
      } else if (c) {
        origins = this.render(c.allowOrigins);
      } else {
        c = r.Properties.CorsConfiguration;
        if (!c) continue;
        const params = this.t.Parameters ?? {};
        origins = JSON.parse(JSON.stringify(this.render(c.AllowOrigins)).replace(/\{param:([A-Za-z0-9]+)\}/g,
          (m: string, name: string) => (params[name]?.Default !== undefined ? String(params[name].Default) : m)));
      }
      const get = (a: string, b: string) => this.render(c[a] ?? c[b]);
      out[this.key(id)] = {
        origins,
        headers: [get('allowHeaders', 'AllowHeaders')].flat().map((x: string) => x.toLowerCase()).sort(),
        methods: [get('allowMethods', 'AllowMethods')].flat().sort(),
        maxAge: String(c.maxAge ?? c.MaxAge),
      };
    }
    return out;
  }

  accessLogs(): Record<string, Json> {
    return Object.fromEntries(this.of('AWS::ApiGatewayV2::Stage').map(([, r]) => {
      const s = r.Properties.AccessLogSettings ?? {};
      const format = s.Format ? JSON.parse(String(s.Format).replace(/\s+/g, '')) : null;
      return [this.key(r.Properties.ApiId?.Ref), { destination: this.render(s.DestinationArn), format }];
    }));
  }

  /** Resources written the same way on both sides: every property, rendered. */
  literal(types: string[]): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (const type of types) {
      for (const [id, r] of this.of(type)) {
        const props = { ...r.Properties };
        if (type === 'AWS::CloudWatch::Dashboard') props.DashboardBody = JSON.parse(this.render(props.DashboardBody));
        out[this.key(id)] = { props: this.render(props), DeletionPolicy: r.DeletionPolicy ?? 'Delete' };
      }
    }
    return out;
  }

  outputs(): Record<string, Json> {
    return Object.fromEntries(Object.entries(this.t.Outputs ?? {})
      .filter(([k]) => !k.startsWith('CDK') && !k.includes('Bootstrap'))
      .map(([k, o]) => [k, this.render(o.Value)]));
  }

  parameters(): Record<string, Json> {
    return Object.fromEntries(Object.entries(this.t.Parameters ?? {})
      .filter(([k]) => k !== 'BootstrapVersion')
      .map(([k, p]) => [k, { Type: p.Type, Default: p.Default === undefined ? undefined : String(p.Default), AllowedPattern: p.AllowedPattern }]));
  }

  unmatched(): string[] {
    return [...this.keys.values()].filter((k) => k.includes('undefined') || k.startsWith('?'));
  }
}

/** A concatenation: adjacent strings merged, nested concatenations flattened; a plain string if it can be. */
function concat(parts: Json[]): Json {
  const flat: Json[] = [];
  for (const p of parts) {
    const inner = p && typeof p === 'object' && Array.isArray(p.join) && p.join[0] === '' && Array.isArray(p.join[1]) ? p.join[1] : [p];
    for (const x of inner) {
      if (typeof x === 'string' && typeof flat[flat.length - 1] === 'string') flat[flat.length - 1] += x;
      else if (x !== '') flat.push(x);
    }
  }
  if (flat.length === 0) return '';
  return flat.length === 1 && typeof flat[0] === 'string' ? flat[0] : { join: ['', flat] };
}

// ------------------------------------------------------------------ diff

function diff(a: Json, b: Json, at: string, out: string[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const isObj = (x: Json) => x && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!(k in b)) out.push(`${at}.${k}: only in SAM: ${JSON.stringify(a[k]).slice(0, 300)}`);
      else if (!(k in a)) out.push(`${at}.${k}: only in CDK: ${JSON.stringify(b[k]).slice(0, 300)}`);
      else diff(a[k], b[k], `${at}.${k}`, out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x) => typeof x !== 'object')) {
    const onlyA = a.filter((x) => !b.includes(x));
    const onlyB = b.filter((x) => !a.includes(x));
    if (onlyA.length || onlyB.length) {
      out.push(`${at}: SAM has ${JSON.stringify(onlyA)}, CDK has ${JSON.stringify(onlyB)}`);
      return;
    }
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => diff(x, b[i], `${at}[${i}]`, out));
    return;
  }
  out.push(`${at}:\n    SAM: ${JSON.stringify(a).slice(0, 400)}\n    CDK: ${JSON.stringify(b).slice(0, 400)}`);
}

function main(): void {
  const started = Date.now();
  const argi = process.argv.indexOf('--sam');
  const sam = new Model(samTemplate(argi > 0 ? process.argv[argi + 1] : undefined));
  const cdk = new Model(cdkTemplate());

  const literalTypes = [
    'AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::S3::BucketPolicy', 'AWS::SQS::QueuePolicy', 'AWS::Events::EventBus',
    'AWS::Events::Rule', 'AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolClient', 'AWS::Cognito::UserPoolDomain',
    'AWS::Cognito::UserPoolGroup', 'AWS::CloudFront::Distribution', 'AWS::CloudFront::OriginAccessControl',
    'AWS::CloudFront::ResponseHeadersPolicy', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard',
    'AWS::Logs::LogGroup', 'AWS::Logs::MetricFilter',
  ];
  const sections: [string, (m: Model) => Json][] = [
    ['functions', (m) => m.functions()],
    ['queues', (m) => m.queues()],
    ['stateMachine', (m) => m.stateMachine()],
    ['iam', (m) => m.iam()],
    ['routes', (m) => m.routes()],
    ['authorizers', (m) => m.authorizers()],
    ['cors', (m) => m.cors()],
    ['accessLogs', (m) => m.accessLogs()],
    ['resources', (m) => m.literal(literalTypes)],
    ['conditions', (m) => m.render(m.t.Conditions ?? {})],
    ['parameters', (m) => m.parameters()],
    ['outputs', (m) => m.outputs()],
  ];
  const problems: string[] = [];
  for (const [side, m] of [['SAM', sam], ['CDK', cdk]] as const) {
    for (const k of m.unmatched()) problems.push(`${side}: a resource without a stable key: ${k}`);
  }
  for (const [name, project] of sections) {
    const [a, b] = [project(sam), project(cdk)];
    for (const [side, v] of [['SAM', a], ['CDK', b]]) {
      const unknown = JSON.stringify(v).match(/\{\?[A-Za-z:]+/g);
      if (unknown) problems.push(`${side} ${name}: references to resources without a stable key: ${[...new Set(unknown)].join(', ')}`);
    }
    diff(a, b, name, problems);
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (problems.length) {
    console.error(`cdk parity: ${problems.length} difference(s) between template.yaml (SAM) and cdk/ (CDK):`);
    for (const p of problems) console.error(`  - ${p}`);
    console.error(`cdk parity: FAILED (${seconds} s)`);
    process.exit(1);
  }
  const counts = ['functions', 'queues', 'iam'].map((s) => `${Object.keys(sections.find(([n]) => n === s)![1](sam)).length} ${s === 'iam' ? 'roles' : s}`);
  console.log(`cdk parity: ok (${counts.join(', ')}; ${seconds} s)`);
}

main();

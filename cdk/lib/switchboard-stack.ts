// The Switchboard stack in CDK: the same resources, settings and IAM permissions as ../template.yaml
// (the SAM template). test/parity.ts synthesises this stack offline and compares it with the SAM
// template after the SAM transform; change both together.
//
// Most non-function resources are written as L1 constructs (Cfn*) on purpose: the L2 helpers add
// permissions and properties of their own (grantConsumeMessages adds sqs:GetQueueUrl, an SqsQueue
// event target adds sqs:GetQueueAttributes, ...), and the point of this stack is to be the SAM
// stack, statement for statement.
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  Aws, CfnCondition, CfnDeletionPolicy, CfnParameter, CfnOutput, Duration, Fn, Stack, StackProps, Tags, Token, Validations,
} from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RustFunction } from 'cargo-lambda-cdk';

/** The repository root: the Cargo workspace, statemachines/. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

const COMPONENT_TAG = 'switchboard:component';
const RETENTION_14_DAYS = 1209600;

type Statement = { sid: string; actions: string[]; resources: string[] };

export class SwitchboardStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.templateOptions.description =
      'Switchboard: WhatsApp Business webhooks on AWS Lambda (CDK twin of template.yaml).';

    // ---------------------------------------------------------------- parameters and conditions
    const appSecretParam = new CfnParameter(this, 'AppSecretParameterName', {
      type: 'String', default: '/switchboard/meta/app-secret', allowedPattern: '^/[A-Za-z0-9_.\\-/]+$',
      description: "Name of the SSM SecureString parameter holding Meta's app secret (X-Hub-Signature-256 key).",
    });
    const verifyTokenParam = new CfnParameter(this, 'VerifyTokenParameterName', {
      type: 'String', default: '/switchboard/meta/verify-token', allowedPattern: '^/[A-Za-z0-9_.\\-/]+$',
      description: 'Name of the SSM SecureString parameter holding the webhook verify token.',
    });
    const logRetention = new CfnParameter(this, 'LogRetentionInDays', {
      type: 'Number', default: 30,
      allowedValues: ['1', '3', '5', '7', '14', '30', '60', '90', '120', '150', '180', '365', '400', '545', '731',
        '1096', '1827', '2192', '2557', '2922', '3288', '3653'],
      description: "Retention of the functions' and the APIs' log groups.",
    });
    const nluModelKey = new CfnParameter(this, 'NluModelKey', {
      type: 'String', default: '', allowedPattern: '^$|^models/[A-Za-z0-9_.\\-/]+$',
      description: 'Optional key under models/ in the claims bucket of a trained NLU model.',
    });
    const taxonomyKey = new CfnParameter(this, 'TaxonomyKey', {
      type: 'String', default: '', allowedPattern: '^$|^models/[A-Za-z0-9_.\\-/]+$',
      description: 'Optional key under models/ in the claims bucket of a tenant taxonomy JSON.',
    });
    const tokenPrefix = new CfnParameter(this, 'TenantTokenParameterPrefix', {
      type: 'String', default: '/switchboard/tenants/', allowedPattern: '^/[A-Za-z0-9_.\\-/]*/$',
      description: "Prefix of the SSM SecureString parameters holding each tenant's Graph API token.",
    });
    const graphVersion = new CfnParameter(this, 'GraphApiVersion', {
      type: 'String', default: 'v23.0', allowedPattern: '^v[0-9]+\\.[0-9]+$',
      description: 'Graph API version the functions call.',
    });
    const opsTenant = new CfnParameter(this, 'OpsTenant', {
      type: 'String', default: 'ops', allowedPattern: '^[A-Za-z0-9_-]+$',
      description: 'The tenant whose admins may list and redrive dead letters through the operator API.',
    });
    const alarmTopicArn = new CfnParameter(this, 'AlarmTopicArn', {
      type: 'String', default: '',
      description: 'Optional SNS topic ARN notified by the alarms (empty for no notifications).',
    });
    const allowedOrigins = new CfnParameter(this, 'AllowedOrigins', {
      type: 'String', default: '', allowedPattern: '^$|^https?://[^,\\s/]+(,https?://[^,\\s/]+)*$',
      description: 'Extra browser origins, comma-separated, allowed to call the operator API (CORS) and to '
        + 'receive Cognito sign-in redirects. The console\'s CloudFront origin is always allowed.',
    });
    const cognitoDomainPrefix = new CfnParameter(this, 'CognitoDomainPrefix', {
      type: 'String', default: '', allowedPattern: '^$|^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$',
      description: 'Prefix of the Cognito hosted UI domain; empty derives "{stack name}-{account id}".',
    });
    const hasAlarmTopic = new CfnCondition(this, 'HasAlarmTopic', {
      expression: Fn.conditionNot(Fn.conditionEquals(alarmTopicArn.valueAsString, '')),
    });
    const hasExtraOrigins = new CfnCondition(this, 'HasExtraOrigins', {
      expression: Fn.conditionNot(Fn.conditionEquals(allowedOrigins.valueAsString, '')),
    });
    const hasCognitoDomainPrefix = new CfnCondition(this, 'HasCognitoDomainPrefix', {
      expression: Fn.conditionNot(Fn.conditionEquals(cognitoDomainPrefix.valueAsString, '')),
    });
    const alarmActions = Token.asList(
      Fn.conditionIf(hasAlarmTopic.logicalId, [alarmTopicArn.valueAsString], Aws.NO_VALUE));

    // CDK's synth-time validation reads conditional values with the parameters' defaults; these are
    // deliberate (the !If never selects the empty value) or wrong (a parameter *name* is no secret).
    const ack = (c: Construct, id: string, reason: string) => Validations.of(c).acknowledge({ id, reason });
    ack(this, 'CloudFormation-Validate::W2509', 'The parameter holds the name of an SSM parameter, not a secret.');

    const ssmArn = (name: string) =>
      `arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:parameter${name}`;

    // ---------------------------------------------------------------- storage
    const claimsBucket = this.bucket('ClaimsBucket', 'claims', {
      lifecycleConfiguration: {
        rules: [{ id: 'ExpireClaims', status: 'Enabled', prefix: 'claims/', expirationInDays: 30 }],
      },
    });
    const mediaBucket = this.bucket('MediaBucket', 'media', {
      lifecycleConfiguration: {
        rules: [{ id: 'abort-incomplete-uploads', status: 'Enabled', abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }],
      },
    }, true);
    const consoleBucket = this.bucket('ConsoleBucket', 'console', {
      versioningConfiguration: { status: 'Enabled' },
      lifecycleConfiguration: {
        rules: [{ id: 'expire-old-builds', status: 'Enabled', noncurrentVersionExpiration: { noncurrentDays: 30 } }],
      },
    });

    const table = new dynamodb.CfnTable(this, 'Table', {
      billingMode: 'PAY_PER_REQUEST',
      attributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk']
        .map((attributeName) => ({ attributeName, attributeType: 'S' })),
      keySchema: [{ attributeName: 'pk', keyType: 'HASH' }, { attributeName: 'sk', keyType: 'RANGE' }],
      globalSecondaryIndexes: ['gsi1', 'gsi2'].map((indexName) => ({
        indexName,
        keySchema: [
          { attributeName: `${indexName}pk`, keyType: 'HASH' },
          { attributeName: `${indexName}sk`, keyType: 'RANGE' },
        ],
        projection: { projectionType: 'ALL' },
      })),
      // DynamoDB deletes expired items lazily: readers must also treat expires_at < now as gone.
      timeToLiveSpecification: { attributeName: 'expires_at', enabled: true },
      sseSpecification: { sseEnabled: true },
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    table.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN;
    table.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
    const tableArn = table.attrArn;
    const tableIndexes = `${table.attrArn}/index/*`;

    const bus = new events.CfnEventBus(this, 'EventBus', {
      name: `${Aws.STACK_NAME}-events`,
      description: 'Switchboard domain events (source "switchboard"): message.triaged, conversation.routed, '
        + 'conversation.visibility, risk.flagged, intent.integration, handoff.requested, '
        + 'handoff.queued/accepted/transferred/resolved/returned_to_bot, message.sent/refused/failed, '
        + 'consent.changed, sla.warning, sla.breached, media.received. Add rules matching detail.tenant and '
        + 'detail-type to feed your own systems.',
    });

    // ---------------------------------------------------------------- queues
    // Names derive from the stack name, as in the SAM template (the events DLQ's RedriveAllowPolicy
    // names its source queue without a circular reference).
    const eventsDlq = this.queue('EventsDeadLetterQueue', 'events-dlq.fifo', { fifo: true });
    (eventsDlq.node.defaultChild as sqs.CfnQueue).redriveAllowPolicy = {
      redrivePermission: 'byQueue',
      sourceQueueArns: [`arn:${Aws.PARTITION}:sqs:${Aws.REGION}:${Aws.ACCOUNT_ID}:${Aws.STACK_NAME}-events.fifo`],
    };
    const eventsQueue = this.queue('EventsQueue', 'events.fifo', {
      fifo: true, visibility: 180, dlq: eventsDlq, maxReceiveCount: 5,
    });
    const mediaDlq = this.queue('MediaDeadLetterQueue', 'media-dlq', {});
    const mediaQueue = this.queue('MediaQueue', 'media', { visibility: 1800, dlq: mediaDlq, maxReceiveCount: 6 });
    const templatesDlq = this.queue('TemplatesDeadLetterQueue', 'templates-dlq.fifo', { fifo: true });
    const templatesQueue = this.queue('TemplatesQueue', 'templates.fifo', {
      fifo: true, visibility: 360, dlq: templatesDlq, maxReceiveCount: 5,
    });
    const outboundDlq = this.queue('OutboundDeadLetterQueue', 'outbound-dlq.fifo', { fifo: true });
    const outboundQueue = this.queue('OutboundQueue', 'outbound.fifo', {
      fifo: true, visibility: 180, dlq: outboundDlq, maxReceiveCount: 100,
    });
    const otpDlq = this.queue('OtpDeadLetterQueue', 'otp-dlq.fifo', { fifo: true });
    // A one-time password is useless after minutes; Meta's own TTL for them is 10 minutes.
    const otpQueue = this.queue('OtpQueue', 'otp.fifo', {
      fifo: true, visibility: 180, retention: 900, dlq: otpDlq, maxReceiveCount: 100,
    });
    const handoffDlq = this.queue('HandoffDeadLetterQueue', 'handoff-dlq', {});
    const handoffQueue = this.queue('HandoffQueue', 'handoff', { visibility: 180, dlq: handoffDlq, maxReceiveCount: 5 });
    const onboardingDlq = this.queue('OnboardingDeadLetterQueue', 'onboarding-dlq', {});
    const onboardingQueue = this.queue('OnboardingQueue', 'onboarding', {
      visibility: 360, dlq: onboardingDlq, maxReceiveCount: 5,
    });
    const redrivePairs: [sqs.Queue, sqs.Queue][] = [
      [eventsDlq, eventsQueue], [mediaDlq, mediaQueue], [templatesDlq, templatesQueue],
      [outboundDlq, outboundQueue], [otpDlq, otpQueue], [handoffDlq, handoffQueue], [onboardingDlq, onboardingQueue],
    ];

    // ---------------------------------------------------------------- state machine
    const stateMachineRole = new iam.Role(this, 'OnboardingStateMachineRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      inlinePolicies: {
        OnboardingStateMachineRolePolicy0: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({
            // The SAM policy template SQSSendMessagePolicy, verbatim.
            actions: ['sqs:SendMessage*'],
            resources: [`arn:${Aws.PARTITION}:sqs:${Aws.REGION}:${Aws.ACCOUNT_ID}:${onboardingQueue.queueName}`],
          })],
        }),
      },
    });
    const stateMachine = new sfn.StateMachine(this, 'OnboardingStateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      // Inline (fromString), like the SAM transform's DefinitionString; fromFile would upload an asset.
      definitionBody: sfn.DefinitionBody.fromString(
        fs.readFileSync(path.join(REPO_ROOT, 'statemachines', 'onboarding.asl.json'), 'utf8')),
      definitionSubstitutions: { OnboardingQueueUrl: onboardingQueue.queueUrl },
      role: stateMachineRole,
    });

    // ---------------------------------------------------------------- functions
    const env = (vars: Record<string, string>) => ({ CLAIMS_BUCKET: claimsBucket.ref, RUST_LOG: 'info', ...vars });
    const lambdaBasic = iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole');
    const tenantTokens = ssmArn(`${tokenPrefix.valueAsString}*`);

    const fn = (id: string, binary: string, o: {
      description: string; timeout: number; memory?: number; environment: Record<string, string>;
      statements: Statement[]; policyName?: string;
    }): RustFunction => {
      const role = new iam.Role(this, `${id}Role`, {
        description: `Execution role of ${id} (least privilege).`,
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        managedPolicies: [lambdaBasic],
        inlinePolicies: {
          [o.policyName ?? binary]: new iam.PolicyDocument({
            statements: o.statements.map((s) => new iam.PolicyStatement({
              sid: s.sid, actions: s.actions, resources: s.resources,
            })),
          }),
        },
      });
      const f = new RustFunction(this, id, {
        manifestPath: path.join(REPO_ROOT, 'Cargo.toml'),
        binaryName: binary,
        architecture: lambda.Architecture.ARM_64,
        bundling: { architecture: lambda.Architecture.ARM_64 },
        description: o.description,
        timeout: Duration.seconds(o.timeout),
        memorySize: o.memory ?? 256,
        environment: env(o.environment),
        role,
        loggingFormat: lambda.LoggingFormat.JSON,
      });
      Tags.of(f).add(COMPONENT_TAG, binary);
      new logs.CfnLogGroup(this, `${id}LogGroup`, {
        logGroupName: `/aws/lambda/${f.functionName}`,
        retentionInDays: logRetention.valueAsNumber,
      });
      return f;
    };
    const sqsSource = (f: lambda.Function, id: string, queue: sqs.Queue, batchSize: number) =>
      // addEventSourceMapping, not SqsEventSource: the latter grants sqs:GetQueueUrl too.
      f.addEventSourceMapping(id, { eventSourceArn: queue.queueArn, batchSize, reportBatchItemFailures: true });
    const poll = (sid: string, ...queues: sqs.Queue[]): Statement => ({
      sid,
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
      resources: queues.map((q) => q.queueArn),
    });
    const tableRw = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem',
      'dynamodb:Query', 'dynamodb:ConditionCheckItem'];

    const ingest = fn('IngestFunction', 'ingest', {
      description: 'Meta webhook -> signature check -> SQS FIFO -> 200 (5xx when the enqueue fails).',
      timeout: 10,
      environment: {
        QUEUE_URL: eventsQueue.queueUrl,
        APP_SECRET_PARAM: appSecretParam.valueAsString,
        VERIFY_TOKEN_PARAM: verifyTokenParam.valueAsString,
      },
      policyName: 'IngestFunctionRolePolicy0',
      statements: [
        { sid: 'EnqueueEvents', actions: ['sqs:SendMessage'], resources: [eventsQueue.queueArn] },
        { sid: 'WriteClaims', actions: ['s3:PutObject'], resources: [`${claimsBucket.attrArn}/claims/*`] },
        {
          sid: 'ReadMetaSecrets', actions: ['ssm:GetParameter'],
          resources: [ssmArn(appSecretParam.valueAsString), ssmArn(verifyTokenParam.valueAsString)],
        },
      ],
    });

    const conversation = fn('ConversationFunction', 'conversation', {
      description: 'SQS FIFO events -> dedupe -> contact, conversation, message, window, status.',
      timeout: 30,
      environment: {
        TABLE_NAME: table.ref,
        BUS_NAME: bus.ref,
        NLU_MODEL_KEY: nluModelKey.valueAsString,
        TAXONOMY_KEY: taxonomyKey.valueAsString,
        OUTBOUND_QUEUE_URL: outboundQueue.queueUrl,
        OTP_QUEUE_URL: otpQueue.queueUrl,
      },
      statements: [
        poll('PollEvents', eventsQueue),
        { sid: 'TableAccess', actions: tableRw, resources: [tableArn, tableIndexes] },
        { sid: 'ReadClaims', actions: ['s3:GetObject'], resources: [`${claimsBucket.attrArn}/claims/*`] },
        { sid: 'ReadModels', actions: ['s3:GetObject'], resources: [`${claimsBucket.attrArn}/models/*`] },
        { sid: 'PublishDomainEvents', actions: ['events:PutEvents'], resources: [bus.attrArn] },
        { sid: 'QueueBotReplies', actions: ['sqs:SendMessage'], resources: [outboundQueue.queueArn, otpQueue.queueArn] },
        { sid: 'ClaimsNotFoundIs404', actions: ['s3:ListBucket'], resources: [claimsBucket.attrArn] },
      ],
    });
    sqsSource(conversation, 'Events', eventsQueue, 10);

    const media = fn('MediaFunction', 'media', {
      description: 'Media jobs -> Graph API -> verified, content-addressed file in S3 -> index -> media.stored.',
      timeout: 300,
      memory: 512,
      environment: {
        TABLE_NAME: table.ref,
        MEDIA_BUCKET: mediaBucket.ref,
        BUS_NAME: bus.ref,
        GRAPH_TOKEN_PARAM_PREFIX: tokenPrefix.valueAsString,
        GRAPH_VERSION: graphVersion.valueAsString,
      },
      statements: [
        poll('PollJobs', mediaQueue),
        { sid: 'Records', actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [tableArn] },
        {
          sid: 'StoreFiles', actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
          resources: [`${mediaBucket.attrArn}/media/*`],
        },
        { sid: 'MissingIs404', actions: ['s3:ListBucket'], resources: [mediaBucket.attrArn] },
        { sid: 'TenantTokens', actions: ['ssm:GetParameter'], resources: [tenantTokens] },
        { sid: 'PublishMediaEvents', actions: ['events:PutEvents'], resources: [bus.attrArn] },
      ],
    });
    sqsSource(media, 'Jobs', mediaQueue, 5);

    const templates = fn('TemplatesFunction', 'templates', {
      description: 'Approved template versions -> lint again -> Graph API create -> status and history recorded.',
      timeout: 60,
      environment: {
        TABLE_NAME: table.ref,
        GRAPH_TOKEN_PARAM_PREFIX: tokenPrefix.valueAsString,
        GRAPH_VERSION: graphVersion.valueAsString,
      },
      statements: [
        poll('PollJobs', templatesQueue),
        { sid: 'Templates', actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'], resources: [tableArn] },
        { sid: 'TenantTokens', actions: ['ssm:GetParameter'], resources: [tenantTokens] },
      ],
    });
    sqsSource(templates, 'Jobs', templatesQueue, 5);

    const sender = fn('SenderFunction', 'sender', {
      description: 'Outbound queues -> window, consent, template and rate checks -> Graph API send -> audit.',
      timeout: 30,
      environment: {
        TABLE_NAME: table.ref,
        BUS_NAME: bus.ref,
        GRAPH_TOKEN_PARAM_PREFIX: tokenPrefix.valueAsString,
        GRAPH_VERSION: graphVersion.valueAsString,
        OUTBOUND_QUEUE_URL: outboundQueue.queueUrl,
        OTP_QUEUE_URL: otpQueue.queueUrl,
        NUMBER_MPS: '80',
      },
      statements: [
        poll('PollSends', outboundQueue, otpQueue),
        { sid: 'SendsConsentAuditBuckets', actions: tableRw, resources: [tableArn, tableIndexes] },
        { sid: 'TenantTokens', actions: ['ssm:GetParameter'], resources: [tenantTokens] },
        { sid: 'PublishSendEvents', actions: ['events:PutEvents'], resources: [bus.attrArn] },
      ],
    });
    sqsSource(sender, 'Conversational', outboundQueue, 10);
    // One-time passwords have their own queue and consumer: a campaign backlog never delays them.
    sqsSource(sender, 'Otp', otpQueue, 10);

    const handoff = fn('HandoffFunction', 'handoff', {
      description: 'handoff.requested events -> conversation queued for a human, with SLA clocks.',
      timeout: 30,
      environment: { TABLE_NAME: table.ref, BUS_NAME: bus.ref },
      statements: [
        poll('PollRequests', handoffQueue),
        { sid: 'Conversations', actions: tableRw, resources: [tableArn] },
        { sid: 'PublishHandoffEvents', actions: ['events:PutEvents'], resources: [bus.attrArn] },
      ],
    });
    sqsSource(handoff, 'Requests', handoffQueue, 10);

    const slaSweeper = fn('SlaSweeperFunction', 'sla-sweeper', {
      description: 'Every minute, SLA deadlines of handed-off conversations -> sla.warning / sla.breached events.',
      timeout: 120,
      environment: { TABLE_NAME: table.ref, BUS_NAME: bus.ref },
      statements: [
        { sid: 'DeadlinesAndMarkers', actions: tableRw, resources: [tableArn, tableIndexes] },
        { sid: 'PublishSlaEvents', actions: ['events:PutEvents'], resources: [bus.attrArn] },
      ],
    });
    const sweep = new events.CfnRule(this, 'SlaSweeperFunctionSweep', {
      description: 'SLA sweep',
      scheduleExpression: 'rate(1 minute)',
      targets: [{ id: 'SlaSweeperFunctionSweepLambdaTarget', arn: slaSweeper.functionArn }],
    });
    slaSweeper.addPermission('SweepPermission', {
      principal: new iam.ServicePrincipal('events.amazonaws.com'), sourceArn: sweep.attrArn,
    });

    const stateMachineExecutions =
      `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${stateMachine.stateMachineName}:*`;
    const onboarding = fn('OnboardingFunction', 'onboarding', {
      description: "Onboarding tasks (task tokens) and Meta's answers -> checkpoints, Graph API calls, SendTaskSuccess/Failure.",
      timeout: 60,
      environment: {
        TABLE_NAME: table.ref,
        STATE_MACHINE_ARN: stateMachine.stateMachineArn,
        GRAPH_TOKEN_PARAM_PREFIX: tokenPrefix.valueAsString,
        GRAPH_VERSION: graphVersion.valueAsString,
      },
      statements: [
        poll('PollTasks', onboardingQueue),
        {
          sid: 'Checkpoints', actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
          resources: [tableArn, tableIndexes],
        },
        {
          sid: 'ResumeExecutions', actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: [stateMachine.stateMachineArn],
        },
        { sid: 'DescribeExecutions', actions: ['states:DescribeExecution'], resources: [stateMachineExecutions] },
        { sid: 'TenantSecrets', actions: ['ssm:GetParameter'], resources: [tenantTokens] },
      ],
    });
    sqsSource(onboarding, 'Tasks', onboardingQueue, 5);

    // ---------------------------------------------------------------- bus rules -> queues
    this.ruleToQueue('MediaReceivedRule', 'Every media.received event becomes a job on the media queue.',
      bus, ['media.received'], mediaQueue, 'media-queue', 'FromMediaReceivedRuleOnly');
    this.ruleToQueue('HandoffRequestedRule', 'Every handoff.requested event becomes a request on the handoff queue.',
      bus, ['handoff.requested'], handoffQueue, 'handoff-queue', 'FromHandoffRequestedRuleOnly');
    this.ruleToQueue('OnboardingSignalsRule',
      "Meta's answers to onboarding checkpoints (and the first customer message) go to the onboarding queue.",
      bus, ['meta.phone_number_name_update', 'meta.message_template_status_update', 'meta.account_update',
        'conversation.opened'], onboardingQueue, 'onboarding-queue', 'FromOnboardingSignalsRuleOnly');

    // ---------------------------------------------------------------- webhook API
    const webhookAccessLogs = new logs.CfnLogGroup(this, 'HttpApiAccessLogs', { retentionInDays: logRetention.valueAsNumber });
    const webhookApi = new apigwv2.HttpApi(this, 'HttpApi', { description: 'Meta (WhatsApp Business) webhook endpoint.' });
    Tags.of(webhookApi).add(COMPONENT_TAG, 'webhook-api');
    this.accessLogs(webhookApi, webhookAccessLogs, false);
    const ingestIntegration = new HttpLambdaIntegration('IngestIntegration', ingest);
    webhookApi.addRoutes({ path: '/webhook', methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST], integration: ingestIntegration });

    // ---------------------------------------------------------------- console: Cognito, bucket, CloudFront
    const userPool = new cognito.CfnUserPool(this, 'UserPool', {
      userPoolName: `${Aws.STACK_NAME}-operators`,
      usernameAttributes: ['email'],
      autoVerifiedAttributes: ['email'],
      adminCreateUserConfig: { allowAdminCreateUserOnly: true },
      accountRecoverySetting: { recoveryMechanisms: [{ name: 'verified_email', priority: 1 }] },
      mfaConfiguration: 'OPTIONAL',
      enabledMfas: ['SOFTWARE_TOKEN_MFA'],
      policies: {
        passwordPolicy: {
          minimumLength: 14, requireLowercase: true, requireUppercase: true, requireNumbers: true, requireSymbols: true,
          temporaryPasswordValidityDays: 3,
        },
      },
      schema: [
        { name: 'email', attributeDataType: 'String', required: true, mutable: true },
        { name: 'tenant', attributeDataType: 'String', mutable: false, stringAttributeConstraints: { minLength: '1', maxLength: '64' } },
      ],
      userAttributeUpdateSettings: { attributesRequireVerificationBeforeUpdate: ['email'] },
    });
    userPool.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN;
    userPool.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;

    const oac = new cloudfront.CfnOriginAccessControl(this, 'ConsoleOriginAccessControl', {
      originAccessControlConfig: {
        name: `${Aws.STACK_NAME}-console`,
        description: 'CloudFront reads the console bucket with SigV4.',
        originAccessControlOriginType: 's3',
        signingBehavior: 'always',
        signingProtocol: 'sigv4',
      },
    });
    const userPoolDomain = new cognito.CfnUserPoolDomain(this, 'UserPoolDomain', {
      userPoolId: userPool.ref,
      domain: Fn.conditionIf(hasCognitoDomainPrefix.logicalId, cognitoDomainPrefix.valueAsString,
        `${Aws.STACK_NAME}-${Aws.ACCOUNT_ID}`).toString(),
    });
    ack(userPoolDomain, 'CloudFormation-Validate::W1030', 'An empty prefix selects the derived domain (HasCognitoDomainPrefix).');
    const cognitoHost = `${userPoolDomain.ref}.auth.${Aws.REGION}.amazoncognito.com`;
    const s3Hosts = `https://*.s3.${Aws.REGION}.${Aws.URL_SUFFIX} https://*.s3.${Aws.URL_SUFFIX}`;
    const headers = new cloudfront.CfnResponseHeadersPolicy(this, 'ConsoleSecurityHeaders', {
      responseHeadersPolicyConfig: {
        name: `${Aws.STACK_NAME}-console-security`,
        comment: 'Security headers of the operator console.',
        securityHeadersConfig: {
          strictTransportSecurity: { accessControlMaxAgeSec: 63072000, includeSubdomains: true, override: true },
          contentTypeOptions: { override: true },
          frameOptions: { frameOption: 'DENY', override: true },
          referrerPolicy: { referrerPolicy: 'strict-origin-when-cross-origin', override: true },
          contentSecurityPolicy: {
            override: true,
            contentSecurityPolicy: [
              "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';",
              `img-src 'self' data: blob: ${s3Hosts};`,
              `media-src 'self' blob: ${s3Hosts};`,
              `connect-src 'self' https://*.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`,
              `https://${cognitoHost} https://cognito-idp.${Aws.REGION}.${Aws.URL_SUFFIX};`,
              `form-action 'self' https://${cognitoHost};`,
              "frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
            ].join(' '),
          },
        },
        customHeadersConfig: {
          items: [{ header: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()', override: true }],
        },
      },
    });
    const distribution = new cloudfront.CfnDistribution(this, 'ConsoleDistribution', {
      distributionConfig: {
        comment: `${Aws.STACK_NAME} operator console`,
        enabled: true,
        httpVersion: 'http2and3',
        ipv6Enabled: true,
        priceClass: 'PriceClass_100',
        defaultRootObject: 'index.html',
        origins: [{
          id: 'console-bucket',
          domainName: consoleBucket.attrRegionalDomainName,
          originAccessControlId: oac.attrId,
          s3OriginConfig: { originAccessIdentity: '' },
        }],
        defaultCacheBehavior: {
          targetOriginId: 'console-bucket',
          viewerProtocolPolicy: 'redirect-to-https',
          allowedMethods: ['GET', 'HEAD'],
          compress: true,
          cachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6', // managed "CachingOptimized"
          responseHeadersPolicyId: headers.ref,
        },
        // A single-page app: unknown paths (S3 answers 403 without ListBucket) serve index.html.
        customErrorResponses: [403, 404].map((errorCode) => ({
          errorCode, responseCode: 200, responsePagePath: '/index.html', errorCachingMinTtl: 0,
        })),
        viewerCertificate: { cloudFrontDefaultCertificate: true },
      },
    });
    this.bucketPolicy('ConsoleBucketPolicy', consoleBucket, [{
      Sid: 'CloudFrontReadsThroughOac',
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
      Resource: `${consoleBucket.attrArn}/*`,
      Condition: {
        StringEquals: {
          'AWS:SourceArn': `arn:${Aws.PARTITION}:cloudfront::${Aws.ACCOUNT_ID}:distribution/${distribution.ref}`,
        },
      },
    }]);
    const consoleOrigin = `https://${distribution.attrDomainName}`;
    const redirectUrls = Token.asList(Fn.conditionIf(hasExtraOrigins.logicalId,
      Fn.split(',', `${consoleOrigin}/,${Fn.join('/,', Fn.split(',', allowedOrigins.valueAsString))}/`),
      [`${consoleOrigin}/`]));
    const userPoolClient = new cognito.CfnUserPoolClient(this, 'UserPoolClient', {
      userPoolId: userPool.ref,
      clientName: 'console',
      generateSecret: false,
      allowedOAuthFlowsUserPoolClient: true,
      allowedOAuthFlows: ['code', 'implicit'],
      allowedOAuthScopes: ['openid', 'email', 'profile'],
      supportedIdentityProviders: ['COGNITO'],
      callbackUrLs: redirectUrls,
      logoutUrLs: redirectUrls,
      explicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      preventUserExistenceErrors: 'ENABLED',
      enableTokenRevocation: true,
      idTokenValidity: 60,
      accessTokenValidity: 60,
      refreshTokenValidity: 12,
      tokenValidityUnits: { idToken: 'minutes', accessToken: 'minutes', refreshToken: 'hours' },
      readAttributes: ['email', 'email_verified', 'custom:tenant'],
      writeAttributes: ['email'],
    });
    const groups: [string, string, string, number][] = [
      ['AgentGroup', 'agent', 'Works conversations from the queues.', 40],
      ['LeadGroup', 'lead', 'Supervises queues, transfers and SLA.', 30],
      ['ApproverGroup', 'approver', 'Approves template versions for submission to Meta.', 20],
      ['AdminGroup', 'admin', 'Tenant administration, onboarding, dead-letter redrive.', 10],
    ];
    for (const [id, groupName, description, precedence] of groups) {
      new cognito.CfnUserPoolGroup(this, id, { userPoolId: userPool.ref, groupName, description, precedence });
    }

    // ---------------------------------------------------------------- operator API
    const operator = fn('OperatorApiFunction', 'operator-api', {
      description: 'Operator console API (axum) -> conversations, handoff, templates, media, DLQs, onboarding.',
      timeout: 29,
      memory: 512,
      environment: {
        TABLE_NAME: table.ref,
        BUS_NAME: bus.ref,
        MEDIA_BUCKET: mediaBucket.ref,
        OUTBOUND_QUEUE_URL: outboundQueue.queueUrl,
        OTP_QUEUE_URL: otpQueue.queueUrl,
        TEMPLATES_QUEUE_URL: templatesQueue.queueUrl,
        STATE_MACHINE_ARN: stateMachine.stateMachineArn,
        GRAPH_TOKEN_PARAM_PREFIX: tokenPrefix.valueAsString,
        GRAPH_VERSION: graphVersion.valueAsString,
        // Every DLQ's URL, comma-separated; and "<DLQ queue name>=<source queue URL>" pairs.
        DLQ_QUEUE_URLS: Fn.join(',', redrivePairs.map(([dlq]) => dlq.queueUrl)),
        SOURCE_QUEUE_URLS: Fn.join(',', redrivePairs.map(([dlq, src]) => `${dlq.queueName}=${src.queueUrl}`)),
        // The tenant whose admins may list and redrive dead letters.
        OPS_TENANT: opsTenant.valueAsString,
      },
      policyName: 'operator-api',
      statements: [
        { sid: 'TableAccess', actions: tableRw, resources: [tableArn, tableIndexes] },
        { sid: 'PresignMedia', actions: ['s3:GetObject'], resources: [`${mediaBucket.attrArn}/media/*`] },
        {
          sid: 'QueueSendsAndTemplates', actions: ['sqs:SendMessage'],
          resources: [outboundQueue.queueArn, otpQueue.queueArn, templatesQueue.queueArn],
        },
        { sid: 'RedriveToSourceQueues', actions: ['sqs:SendMessage'], resources: redrivePairs.map(([, src]) => src.queueArn) },
        poll('ReadDeadLetters', ...redrivePairs.map(([dlq]) => dlq)),
        { sid: 'PublishOperatorEvents', actions: ['events:PutEvents'], resources: [bus.attrArn] },
        {
          sid: 'Onboarding',
          actions: ['states:StartExecution', 'states:ListExecutions', 'states:SendTaskSuccess', 'states:SendTaskFailure'],
          resources: [stateMachine.stateMachineArn],
        },
        { sid: 'OnboardingExecutions', actions: ['states:DescribeExecution'], resources: [stateMachineExecutions] },
        { sid: 'TenantSecrets', actions: ['ssm:GetParameter', 'ssm:GetParameters'], resources: [tenantTokens] },
      ],
    });

    const operatorAccessLogs = new logs.CfnLogGroup(this, 'OperatorHttpApiAccessLogs', { retentionInDays: logRetention.valueAsNumber });
    const operatorApi = new apigwv2.HttpApi(this, 'OperatorHttpApi', {
      description: 'Switchboard operator console API (Cognito JWT on /api/*).',
      corsPreflight: {
        allowOrigins: Token.asList(Fn.conditionIf(hasExtraOrigins.logicalId,
          Fn.split(',', `${consoleOrigin},${allowedOrigins.valueAsString}`), [consoleOrigin])),
        allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST, apigwv2.CorsHttpMethod.PUT,
          apigwv2.CorsHttpMethod.PATCH, apigwv2.CorsHttpMethod.DELETE, apigwv2.CorsHttpMethod.OPTIONS],
        maxAge: Duration.seconds(600),
      },
    });
    Tags.of(operatorApi).add(COMPONENT_TAG, 'operator-api');
    this.accessLogs(operatorApi, operatorAccessLogs, true);
    const jwt = new HttpJwtAuthorizer('CognitoJwt',
      `https://cognito-idp.${Aws.REGION}.${Aws.URL_SUFFIX}/${userPool.ref}`, {
        jwtAudience: [userPoolClient.ref],
        identitySource: ['$request.header.Authorization'],
      });
    const operatorIntegration = new HttpLambdaIntegration('OperatorIntegration', operator);
    operatorApi.addRoutes({ path: '/api/{proxy+}', methods: [apigwv2.HttpMethod.ANY], integration: operatorIntegration, authorizer: jwt });
    operatorApi.addRoutes({ path: '/api/openapi.json', methods: [apigwv2.HttpMethod.GET], integration: operatorIntegration });
    operatorApi.addRoutes({ path: '/healthz', methods: [apigwv2.HttpMethod.GET], integration: operatorIntegration });

    // ---------------------------------------------------------------- alarms
    const alarm = (id: string, description: string, o: Partial<cloudwatch.CfnAlarmProps>) => {
      const a = new cloudwatch.CfnAlarm(this, id, {
        alarmDescription: description,
        evaluationPeriods: 1,
        treatMissingData: 'notBreaching',
        alarmActions,
        ...o,
      } as cloudwatch.CfnAlarmProps);
      ack(a, 'CloudFormation-Validate::W1030', 'An empty AlarmTopicArn selects no actions (HasAlarmTopic).');
      return a;
    };
    const dlqAlarm = (id: string, dlq: sqs.Queue, description: string) => alarm(id, description, {
      namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: [{ name: 'QueueName', value: dlq.queueName }],
      statistic: 'Maximum', period: 60, threshold: 0, comparisonOperator: 'GreaterThanThreshold',
    });
    const alarms = [
      dlqAlarm('DeadLetterAlarm', eventsDlq, 'Events reached the dead-letter queue (failed 5 times); inspect and redrive.'),
      dlqAlarm('MediaDeadLetterAlarm', mediaDlq, 'Media jobs reached the dead-letter queue (they could not even be recorded as lost).'),
      dlqAlarm('TemplatesDeadLetterAlarm', templatesDlq, 'Template submissions failed 5 times (Graph API or token problems); inspect and redrive.'),
      dlqAlarm('OutboundDeadLetterAlarm', outboundDlq, 'Sends reached the dead-letter queue (they could not be sent or recorded); inspect and redrive.'),
      dlqAlarm('OtpDeadLetterAlarm', otpDlq, 'One-time-password sends reached the dead-letter queue.'),
      dlqAlarm('HandoffDeadLetterAlarm', handoffDlq, 'Handoff requests reached the dead-letter queue; customers asking for a human are not queued.'),
      dlqAlarm('OnboardingDeadLetterAlarm', onboardingDlq, "Onboarding tasks or signals failed 5 times; a tenant's checklist may be stuck."),
      alarm('SlaSweeperErrorsAlarm', 'The SLA sweeper is failing; warning and breach events are not being raised.', {
        namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: [{ name: 'FunctionName', value: slaSweeper.functionName }],
        statistic: 'Sum', period: 300, threshold: 0, comparisonOperator: 'GreaterThanThreshold',
      }),
      alarm('IngestErrorsAlarm', 'The webhook API returned 5xx (Meta will retry; events may be delayed).', {
        namespace: 'AWS/ApiGateway', metricName: '5xx', dimensions: [{ name: 'ApiId', value: webhookApi.apiId }],
        statistic: 'Sum', period: 300, threshold: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
      alarm('QueueAgeAlarm', 'The oldest event on the events queue is older than 5 minutes (consumer stalled).', {
        namespace: 'AWS/SQS', metricName: 'ApproximateAgeOfOldestMessage', dimensions: [{ name: 'QueueName', value: eventsQueue.queueName }],
        statistic: 'Maximum', period: 60, threshold: 300, comparisonOperator: 'GreaterThanThreshold',
      }),
      // Webhooks arriving but nothing processed: see the comment on this alarm in template.yaml.
      alarm('WebhooksNotProcessedAlarm',
        'Webhooks are arriving but no event has been processed for 15 minutes (ingest not enqueuing, '
        + 'or the conversation function failing every record).', {
          metrics: [
            { id: 'arriving', label: 'Accepted webhook requests', returnData: false, expression: 'FILL(requests, 0) - FILL(rejected, 0)' },
            metricStat('requests', 'AWS/ApiGateway', 'Count', 'ApiId', webhookApi.apiId),
            metricStat('rejected', 'AWS/ApiGateway', '4xx', 'ApiId', webhookApi.apiId),
            metricStat('processed', 'AWS/SQS', 'NumberOfMessagesDeleted', 'QueueName', eventsQueue.queueName),
            {
              id: 'stalled', label: 'Webhooks arriving, nothing processed', returnData: true,
              expression: 'IF(arriving > 0 AND FILL(processed, 0) == 0, 1, 0)',
            },
          ],
          evaluationPeriods: 3, datapointsToAlarm: 3, threshold: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
    ];
    const byId = Object.fromEntries(alarms.map((a) => [a.node.id, a]));

    // media.lost has no roll-up counter: count the media function's "media lost" warning.
    const mediaLogGroup = this.node.findChild('MediaFunctionLogGroup') as logs.CfnLogGroup;
    new logs.CfnMetricFilter(this, 'MediaLostMetricFilter', {
      logGroupName: mediaLogGroup.ref,
      filterPattern: '{ $.fields.message = "media lost" }',
      metricTransformations: [{
        metricNamespace: 'Switchboard', metricName: 'media_lost', metricValue: '1', defaultValue: 0, unit: 'Count',
      }],
    });

    // ---------------------------------------------------------------- dashboard
    const q = (queue: sqs.Queue) => queue.queueName;
    const mainQueues: [string, sqs.Queue][] = [['events', eventsQueue], ['media', mediaQueue], ['templates', templatesQueue],
      ['outbound', outboundQueue], ['otp', otpQueue], ['handoff', handoffQueue], ['onboarding', onboardingQueue]];
    const dlqs: [string, sqs.Queue][] = [['events-dlq', eventsDlq], ['media-dlq', mediaDlq], ['templates-dlq', templatesDlq],
      ['outbound-dlq', outboundDlq], ['otp-dlq', otpDlq], ['handoff-dlq', handoffDlq], ['onboarding-dlq', onboardingDlq]];
    const functions: [string, lambda.Function][] = [['ingest', ingest], ['conversation', conversation], ['media', media],
      ['templates', templates], ['sender', sender], ['handoff', handoff], ['sla-sweeper', slaSweeper],
      ['onboarding', onboarding], ['operator-api', operator]];
    const search = (metric: string, id: string, label: string) => [{
      expression: `SEARCH('{Switchboard,tenant} MetricName="${metric}"', 'Sum', 300)`, id, label,
    }];
    const red = '#d62728';
    const region = Aws.REGION;
    const dashboard = {
      start: '-PT6H',
      periodOverride: 'inherit',
      widgets: [
        {
          type: 'text', x: 0, y: 0, width: 24, height: 1,
          properties: { markdown: `## ${Aws.STACK_NAME}: webhook → events.fifo → conversation → bus → media / handoff / sender  (runbook: docs/operations.md)` },
        },
        {
          type: 'metric', x: 0, y: 1, width: 8, height: 6,
          properties: {
            title: 'Webhook API: requests, 4xx, 5xx', region, stat: 'Sum', period: 60, view: 'timeSeries',
            metrics: [
              ['AWS/ApiGateway', 'Count', 'ApiId', webhookApi.apiId, { label: 'requests' }],
              ['AWS/ApiGateway', '4xx', 'ApiId', webhookApi.apiId, { label: '4xx (bad signature, probes)' }],
              ['AWS/ApiGateway', '5xx', 'ApiId', webhookApi.apiId, { label: '5xx (not queued, Meta retries)', color: red }],
            ],
          },
        },
        {
          type: 'metric', x: 8, y: 1, width: 8, height: 6,
          properties: {
            title: 'Webhook API latency (ms); Meta wants p50 <= 250, < 1% over 1 s', region, period: 60, view: 'timeSeries',
            metrics: [
              ['AWS/ApiGateway', 'Latency', 'ApiId', webhookApi.apiId, { stat: 'p50', label: 'p50' }],
              ['AWS/ApiGateway', 'Latency', 'ApiId', webhookApi.apiId, { stat: 'p99', label: 'p99' }],
              ['AWS/ApiGateway', 'IntegrationLatency', 'ApiId', webhookApi.apiId, { stat: 'p99', label: 'ingest p99' }],
              ['Switchboard', 'ingest_latency_ms', { stat: 'p99', label: 'verify + enqueue p99 (EMF)' }],
            ],
            annotations: { horizontal: [{ label: '1 s', value: 1000 }] },
          },
        },
        {
          type: 'metric', x: 16, y: 1, width: 8, height: 6,
          properties: {
            title: 'Events: enqueued vs processed', region, stat: 'Sum', period: 300, view: 'timeSeries',
            metrics: [
              ['AWS/SQS', 'NumberOfMessagesSent', 'QueueName', q(eventsQueue), { label: 'enqueued by ingest' }],
              ['AWS/SQS', 'NumberOfMessagesDeleted', 'QueueName', q(eventsQueue), { label: 'processed by conversation' }],
              ['AWS/Lambda', 'Errors', 'FunctionName', conversation.functionName, { label: 'conversation errors', color: red }],
            ],
          },
        },
        {
          type: 'metric', x: 0, y: 7, width: 12, height: 6,
          properties: {
            title: 'Queue age: oldest message (s)', region, stat: 'Maximum', period: 60, view: 'timeSeries',
            metrics: mainQueues.map(([label, queue]) => ['AWS/SQS', 'ApproximateAgeOfOldestMessage', 'QueueName', q(queue), { label }]),
            annotations: { horizontal: [{ label: 'QueueAgeAlarm (events)', value: 300 }] },
          },
        },
        {
          type: 'metric', x: 12, y: 7, width: 12, height: 6,
          properties: {
            title: 'Dead-letter queues: visible messages', region, stat: 'Maximum', period: 60, view: 'timeSeries',
            metrics: dlqs.map(([label, queue]) => ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', q(queue), { label }]),
          },
        },
        {
          type: 'metric', x: 0, y: 13, width: 8, height: 6,
          properties: {
            title: 'Inbound messages and sends (EMF, per tenant)', region, period: 300, view: 'timeSeries',
            metrics: [
              search('inbound_messages', 'inbound', 'inbound'), search('sent', 'sent', 'sent'),
              search('refused', 'refused', 'refused'), search('failed', 'failed', 'failed'),
            ],
          },
        },
        {
          type: 'metric', x: 8, y: 13, width: 8, height: 6,
          properties: {
            title: 'Handoffs and SLA breaches (EMF, per tenant)', region, period: 300, view: 'timeSeries',
            metrics: [
              search('handoffs', 'handoffs', 'handoffs'),
              search('sla_breached_first_response', 'breachfirst', 'breached first response'),
              search('sla_breached_next_response', 'breachnext', 'breached next response'),
              search('sla_breached_resolution', 'breachres', 'breached resolution'),
            ],
          },
        },
        {
          type: 'metric', x: 16, y: 13, width: 8, height: 6,
          properties: {
            title: 'Media lost and template rejections', region, period: 300, view: 'timeSeries',
            metrics: [
              ['Switchboard', 'media_lost', { stat: 'Sum', label: 'media lost (media function log)', color: red }],
              search('templates_rejected', 'rejected', 'templates rejected'),
              search('templates_approved', 'approved', 'templates approved'),
            ],
          },
        },
        {
          type: 'metric', x: 0, y: 19, width: 12, height: 6,
          properties: {
            title: 'Function errors', region, stat: 'Sum', period: 300, view: 'timeSeries',
            metrics: functions.map(([label, f]) => ['AWS/Lambda', 'Errors', 'FunctionName', f.functionName, { label }]),
          },
        },
        {
          type: 'metric', x: 12, y: 19, width: 12, height: 6,
          properties: {
            title: 'Operator API: requests, 4xx, 5xx', region, stat: 'Sum', period: 300, view: 'timeSeries',
            metrics: [
              ['AWS/ApiGateway', 'Count', 'ApiId', operatorApi.apiId, { label: 'requests' }],
              ['AWS/ApiGateway', '4xx', 'ApiId', operatorApi.apiId, { label: '4xx' }],
              ['AWS/ApiGateway', '5xx', 'ApiId', operatorApi.apiId, { label: '5xx', color: red }],
            ],
          },
        },
        {
          type: 'alarm', x: 0, y: 25, width: 24, height: 3,
          properties: {
            title: 'Alarms',
            alarms: ['WebhooksNotProcessedAlarm', 'IngestErrorsAlarm', 'QueueAgeAlarm', 'DeadLetterAlarm',
              'MediaDeadLetterAlarm', 'TemplatesDeadLetterAlarm', 'OutboundDeadLetterAlarm', 'OtpDeadLetterAlarm',
              'HandoffDeadLetterAlarm', 'OnboardingDeadLetterAlarm', 'SlaSweeperErrorsAlarm'].map((id) => byId[id].attrArn),
          },
        },
      ],
    };
    new cloudwatch.CfnDashboard(this, 'Dashboard', {
      dashboardName: `${Aws.STACK_NAME}-pipeline`,
      dashboardBody: this.toJsonString(dashboard),
    });

    // ---------------------------------------------------------------- outputs
    const outputs: Record<string, [string, string]> = {
      WebhookUrl: ['Callback URL to register in Meta\'s app dashboard (GET verify, POST events).',
        `https://${webhookApi.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/webhook`],
      TableName: ['The single DynamoDB table.', table.ref],
      EventsQueueUrl: ['The FIFO queue between ingest and conversation.', eventsQueue.queueUrl],
      EventsDeadLetterQueueUrl: ['Events that failed 5 times.', eventsDlq.queueUrl],
      ClaimsBucketName: ['Private bucket for claim payloads (claims/ expires after 30 days) and models/.', claimsBucket.ref],
      EventBusName: ["EventBridge bus carrying Switchboard's domain events.", bus.ref],
      MediaBucketName: ['Private bucket of inbound media, content-addressed under media/{tenant}/.', mediaBucket.ref],
      OutboundQueueUrl: ['Conversational and marketing sends waiting for the sender (FIFO per conversation).', outboundQueue.queueUrl],
      OtpQueueUrl: ['One-time-password sends, isolated from the rest.', otpQueue.queueUrl],
      OnboardingStateMachineArn: ['The onboarding state machine (start an execution per tenant).', stateMachine.stateMachineArn],
      OnboardingQueueUrl: ["Onboarding tasks and Meta's answers waiting for the onboarding function.", onboardingQueue.queueUrl],
      HandoffQueueUrl: ['Handoff requests waiting for the handoff function.', handoffQueue.queueUrl],
      TemplatesQueueUrl: ['Approved template versions waiting to be submitted to Meta (the operator API sends here).', templatesQueue.queueUrl],
      MediaDeadLetterQueueUrl: ['Media jobs that could not be processed or recorded.', mediaDlq.queueUrl],
      OperatorApiUrl: ['Base URL of the operator console API (routes under /api/, /healthz).',
        `https://${operatorApi.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`],
      ConsoleUrl: ['The operator console (CloudFront).', `https://${distribution.attrDomainName}/`],
      ConsoleBucketName: ['Upload the built console (web/dist) and its config.json here.', consoleBucket.ref],
      ConsoleDistributionId: ['CloudFront distribution of the console (invalidate /* after an upload).', distribution.ref],
      UserPoolId: ['Cognito user pool of the operators.', userPool.ref],
      UserPoolClientId: ['Cognito app client of the console (public, no secret).', userPoolClient.ref],
      CognitoDomain: ["Hosted UI base URL of the user pool (the console's config.json cognito.domain).", `https://${cognitoHost}`],
    };
    for (const [id, [description, value]] of Object.entries(outputs)) {
      new CfnOutput(this, id, { description, value });
    }
  }

  /** A private, encrypted bucket with a TLS-only policy, tagged with its component. */
  private bucket(id: string, component: string, extra: Partial<s3.CfnBucketProps>, retain = false): s3.CfnBucket {
    const b = new s3.CfnBucket(this, id, {
      tags: [{ key: COMPONENT_TAG, value: component }],
      bucketEncryption: { serverSideEncryptionConfiguration: [{ serverSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] },
      publicAccessBlockConfiguration: {
        blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
      },
      ownershipControls: { rules: [{ objectOwnership: 'BucketOwnerEnforced' }] },
      ...extra,
    });
    if (retain) {
      b.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN;
      b.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
    }
    if (id !== 'ConsoleBucket') this.bucketPolicy(`${id}Policy`, b, []);
    return b;
  }

  private bucketPolicy(id: string, b: s3.CfnBucket, more: object[]): s3.CfnBucketPolicy {
    return new s3.CfnBucketPolicy(this, id, {
      bucket: b.ref,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [b.attrArn, `${b.attrArn}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }, ...more],
      },
    });
  }

  private queue(id: string, suffix: string, o: {
    fifo?: boolean; visibility?: number; retention?: number; dlq?: sqs.Queue; maxReceiveCount?: number;
  }): sqs.Queue {
    return new sqs.Queue(this, id, {
      queueName: `${Aws.STACK_NAME}-${suffix}`,
      fifo: o.fifo ? true : undefined,
      contentBasedDeduplication: o.fifo && o.dlq ? false : undefined,
      visibilityTimeout: o.visibility === undefined ? undefined : Duration.seconds(o.visibility),
      retentionPeriod: Duration.seconds(o.retention ?? RETENTION_14_DAYS),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      deadLetterQueue: o.dlq ? { queue: o.dlq, maxReceiveCount: o.maxReceiveCount! } : undefined,
    });
  }

  /** An EventBridge rule on the bus to a queue, and the queue policy allowing only that rule. */
  private ruleToQueue(id: string, description: string, bus: events.CfnEventBus, detailTypes: string[],
    queue: sqs.Queue, targetId: string, sid: string): void {
    const rule = new events.CfnRule(this, id, {
      description,
      eventBusName: bus.ref,
      eventPattern: { source: ['switchboard'], 'detail-type': detailTypes },
      targets: [{ id: targetId, arn: queue.queueArn }],
    });
    new sqs.CfnQueuePolicy(this, `${id}QueuePolicy`, {
      queues: [queue.queueUrl],
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{
          Sid: sid,
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: queue.queueArn,
          Condition: { ArnEquals: { 'aws:SourceArn': rule.attrArn } },
        }],
      },
    });
  }

  private accessLogs(api: apigwv2.HttpApi, group: logs.CfnLogGroup, withAuth: boolean): void {
    const stage = api.defaultStage!.node.defaultChild as apigwv2.CfnStage;
    const fields = [
      '"requestId":"$context.requestId"', '"ip":"$context.identity.sourceIp"', '"requestTime":"$context.requestTime"',
      '"method":"$context.httpMethod"', '"path":"$context.path"', '"status":"$context.status"',
      '"length":"$context.responseLength"', '"latencyMs":"$context.responseLatency"',
      ...(withAuth ? ['"sub":"$context.authorizer.claims.sub"', '"authorizerError":"$context.authorizer.error"'] : []),
      '"integrationError":"$context.integrationErrorMessage"',
    ];
    stage.accessLogSettings = { destinationArn: group.attrArn, format: `{${fields.join(',')}}` };
  }
}

function metricStat(id: string, namespace: string, metricName: string, dimension: string, value: string):
  cloudwatch.CfnAlarm.MetricDataQueryProperty {
  return {
    id,
    returnData: false,
    metricStat: { metric: { namespace, metricName, dimensions: [{ name: dimension, value }] }, period: 300, stat: 'Sum' },
  };
}

//! Template governance: drafts with versions, an author and an approver (never the same person),
//! approval before submission, localisation sets whose variables agree across languages, A/B
//! variants — and the submission itself, through the templates queue, linted again and created
//! with Meta's Graph API.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use switchboard_core::template::{
    from_value, parse_json, ExistingTemplate, LintContext, LintReport, Template,
};
use switchboard_graph::GraphClient;

use crate::ports::table::item;
use crate::ports::{
    Clock, Condition, Index, Item, Key, OutgoingMessage, Query, Queue, SkRange, StoreError, Table,
    TokenSource, TxOp, Update,
};

/// Who is acting. Until operator authentication lands (JWT with roles), the HTTP layer takes
/// these from request headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: String,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Author,
    Approver,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "author" => Some(Self::Author),
            "approver" => Some(Self::Approver),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// Lint errors block approval and submission.
    #[error("the template has {} lint error(s)", .0.errors)]
    LintErrors(Box<LintReport>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("templates queue: {0}")]
    Queue(String),
}

fn pk(tenant: &str, name: &str) -> String {
    format!("T#{tenant}#TPL#{name}")
}

fn draft_sk(lang: &str, version: i64) -> String {
    format!("DRAFT#{lang}#V{version:04}")
}

fn lang_key(tenant: &str, name: &str, lang: &str) -> Key {
    Key::new(pk(tenant, name), format!("LANG#{lang}"))
}

fn s(it: &Item, a: &str) -> String {
    it.get(a)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Variables of a template's header and body, for the localisation check.
fn variables(t: &Template) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in &t.components {
        let Some(text) = c.text.as_deref() else {
            continue;
        };
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            out.insert(format!(
                "{}:{}",
                c.kind.as_deref().unwrap_or(""),
                after[..end].trim()
            ));
            rest = &after[end + 2..];
        }
    }
    out
}

pub struct Governance {
    pub table: Arc<dyn Table>,
    pub clock: Arc<dyn Clock>,
    pub queue: Arc<dyn Queue>,
}

impl Governance {
    /// Other templates of the tenant, for the duplicate rule.
    async fn lint_context(&self, tenant: &str, except: &str) -> Result<LintContext, StoreError> {
        let mut q = Query::partition(Index::Gsi2, format!("T#{tenant}#DRAFTS"));
        q.limit = 200;
        let mut ctx = LintContext::new();
        loop {
            let page = self.table.query(&q).await?;
            for it in &page.items {
                if s(it, "name") == except {
                    continue;
                }
                if let Some(t) = it.get("template").cloned().and_then(|v| from_value(v).ok()) {
                    if let Some(e) = ExistingTemplate::from_template(&t) {
                        ctx.add_existing(e);
                    }
                }
            }
            match page.cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        Ok(ctx)
    }

    /// Stores a new version of a draft. Authors and admins only.
    pub async fn save_draft(
        &self,
        tenant: &str,
        actor: &Actor,
        body: Value,
    ) -> Result<Value, GovernanceError> {
        if actor.role == Role::Approver {
            return Err(GovernanceError::Forbidden(
                "approvers review drafts; authors write them".into(),
            ));
        }
        let variant = body
            .get("variant")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut body = body;
        let mut variant_of = None;
        if let Value::Object(m) = &mut body {
            m.remove("variant");
            // An A/B variant is its own Meta template, `{name}_{variant}`, linked to its base.
            if let Some(v) = &variant {
                let ok = !v.is_empty()
                    && v.len() <= 8
                    && v.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
                if !ok {
                    return Err(GovernanceError::Invalid(
                        "a variant label is 1-8 lowercase letters or digits".into(),
                    ));
                }
                let base = m
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                m.insert("name".into(), Value::from(format!("{base}_{v}")));
                variant_of = Some(base);
            }
        }
        let template =
            from_value(body.clone()).map_err(|e| GovernanceError::Invalid(e.to_string()))?;
        let name = template
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| GovernanceError::Invalid("a template needs a name".into()))?;
        let lang = body
            .get("language")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| GovernanceError::Invalid("a template needs a language code".into()))?;
        let ctx = self.lint_context(tenant, &name).await?;
        let report = LintReport::new(&template, &ctx);
        let now = self.clock.now();
        for _ in 0..3 {
            let current = self.table.get(&lang_key(tenant, &name, &lang)).await?;
            let latest = current
                .as_ref()
                .and_then(|c| c.get("latest_draft"))
                .and_then(Value::as_i64);
            let version = latest.unwrap_or(0) + 1;
            let draft = item(
                &Key::new(pk(tenant, &name), draft_sk(&lang, version)),
                json!({
                    "kind": "template_draft", "name": name, "language": lang, "version": version,
                    "category": template.category, "variant": variant, "variant_of": variant_of, "template": body,
                    "state": "draft", "author": actor.user, "created_at": now,
                    "lint": {"errors": report.errors, "warnings": report.warnings, "findings": report.findings},
                    "gsi2pk": format!("T#{tenant}#DRAFTS"), "gsi2sk": format!("{name}#{lang}#{version:04}"),
                }),
            );
            let pointer = Update::default()
                .set("kind", "template")
                .set("name", name.as_str())
                .set("language", lang.as_str())
                .set("latest_draft", version)
                .set_if_absent("status", "DRAFT");
            let cond = match latest {
                Some(v) => Condition::AttrEquals("latest_draft".into(), json!(v)),
                None => Condition::AttrNotExists("latest_draft".into()),
            };
            let res = self
                .table
                .transact(vec![
                    TxOp::Put {
                        item: draft,
                        condition: Some(Condition::ItemNotExists),
                    },
                    TxOp::Update {
                        key: lang_key(tenant, &name, &lang),
                        update: pointer,
                        condition: Some(cond),
                    },
                ])
                .await;
            match res {
                Ok(()) => {
                    return Ok(
                        json!({"name": name, "language": lang, "version": version, "variant": variant, "variant_of": variant_of, "lint": report}),
                    )
                }
                Err(StoreError::TransactionCancelled { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(GovernanceError::Conflict(
            "another draft of this template is being saved; retry".into(),
        ))
    }

    async fn draft(
        &self,
        tenant: &str,
        name: &str,
        lang: &str,
        version: i64,
    ) -> Result<Item, GovernanceError> {
        self.table
            .get(&Key::new(pk(tenant, name), draft_sk(lang, version)))
            .await?
            .ok_or_else(|| {
                GovernanceError::NotFound(format!("no version {version} of {name} ({lang})"))
            })
    }

    /// Approves a version: approvers and admins, never the version's own author, never with lint
    /// errors.
    pub async fn approve(
        &self,
        tenant: &str,
        actor: &Actor,
        name: &str,
        lang: &str,
        version: i64,
    ) -> Result<Value, GovernanceError> {
        if actor.role == Role::Author {
            return Err(GovernanceError::Forbidden(
                "only approvers approve templates".into(),
            ));
        }
        let draft = self.draft(tenant, name, lang, version).await?;
        if s(&draft, "author") == actor.user {
            return Err(GovernanceError::Forbidden(
                "a template needs a second person's approval".into(),
            ));
        }
        let errors = draft
            .get("lint")
            .and_then(|l| l.get("errors"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if errors > 0 {
            return Err(GovernanceError::Invalid(format!(
                "version {version} has {errors} lint error(s); fix them in a new version"
            )));
        }
        let key = Key::new(pk(tenant, name), draft_sk(lang, version));
        let up = Update::default()
            .set("state", "approved")
            .set("approved_by", actor.user.as_str())
            .set("approved_at", self.clock.now());
        match self
            .table
            .update(
                &key,
                up,
                Some(Condition::AttrEquals("state".into(), json!("draft"))),
            )
            .await
        {
            Ok(_) => {
                Ok(json!({"name": name, "language": lang, "version": version, "state": "approved"}))
            }
            Err(StoreError::ConditionFailed) => Err(GovernanceError::Conflict(format!(
                "version {version} is not a draft awaiting approval"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Queues an approved version for submission to Meta, after the localisation check.
    pub async fn submit(
        &self,
        tenant: &str,
        actor: &Actor,
        name: &str,
        lang: &str,
        version: i64,
    ) -> Result<Value, GovernanceError> {
        let _ = actor;
        let draft = self.draft(tenant, name, lang, version).await?;
        if s(&draft, "state") != "approved" {
            return Err(GovernanceError::Conflict(format!(
                "version {version} must be approved before it is submitted (it is {})",
                s(&draft, "state")
            )));
        }
        let mine = draft
            .get("template")
            .cloned()
            .and_then(|v| from_value(v).ok())
            .map(|t| variables(&t))
            .unwrap_or_default();
        // Localisation set: every language of this name must use the same variables.
        let mut q = Query::partition(Index::Table, pk(tenant, name));
        q.sk = SkRange::BeginsWith("LANG#".into());
        for l in self
            .table
            .query(&q)
            .await?
            .items
            .iter()
            .filter(|i| s(i, "kind") == "template")
        {
            let other_lang = s(l, "language");
            let Some(v) = l.get("latest_draft").and_then(Value::as_i64) else {
                continue;
            };
            if other_lang == lang {
                continue;
            }
            let other = self.draft(tenant, name, &other_lang, v).await?;
            let theirs = other
                .get("template")
                .cloned()
                .and_then(|v| from_value(v).ok())
                .map(|t| variables(&t))
                .unwrap_or_default();
            if theirs != mine {
                return Err(GovernanceError::Invalid(format!(
                    "the {other_lang} version of {name} uses different variables ({theirs:?}) than {lang} ({mine:?}); a localisation set must agree"
                )));
            }
        }
        let key = Key::new(pk(tenant, name), draft_sk(lang, version));
        self.table
            .update(
                &key,
                Update::default().set("state", "submitting"),
                Some(Condition::AttrEquals("state".into(), json!("approved"))),
            )
            .await
            .map_err(|e| match e {
                StoreError::ConditionFailed => {
                    GovernanceError::Conflict("already submitted".into())
                }
                other => other.into(),
            })?;
        let job = json!({"tenant": tenant, "name": name, "language": lang, "version": version});
        self.queue
            .send_batch(&[OutgoingMessage {
                group: format!("{name}#{lang}"),
                dedup_id: format!("{name}#{lang}#{version}"),
                body: job.to_string(),
            }])
            .await
            .map_err(|e| GovernanceError::Queue(e.to_string()))?;
        Ok(json!({"name": name, "language": lang, "version": version, "state": "submitting"}))
    }
}

/// The templates function: lint again, create the template with Meta, record the outcome.
pub struct Submitter {
    pub table: Arc<dyn Table>,
    pub clock: Arc<dyn Clock>,
    pub graph: GraphClient,
    pub tokens: Arc<dyn TokenSource>,
}

#[derive(Debug, Deserialize)]
struct Job {
    tenant: String,
    name: String,
    language: String,
    version: i64,
}

impl Submitter {
    /// `Err` returns the job to the queue (a transient failure); a refusal is recorded and done.
    pub async fn handle(&self, body: &str) -> Result<String, String> {
        let job: Job =
            serde_json::from_str(body).map_err(|e| format!("not a template job: {e}"))?;
        let key = Key::new(
            pk(&job.tenant, &job.name),
            draft_sk(&job.language, job.version),
        );
        let draft = self
            .table
            .get(&key)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("draft vanished")?;
        if s(&draft, "state") == "submitted" {
            return Ok("already submitted".into());
        }
        let body = draft.get("template").cloned().unwrap_or(Value::Null);
        let now = self.clock.now();
        let history = |event: &str, extra: Value| {
            let mut v = json!({"kind": "template_event", "name": job.name, "language": job.language, "event": event, "at": now, "version": job.version});
            if let (Value::Object(a), Value::Object(b)) = (&mut v, extra) {
                a.extend(b);
            }
            item(
                &Key::new(
                    pk(&job.tenant, &job.name),
                    format!("LANG#{}#EVT#{now:012}#{event}", job.language),
                ),
                v,
            )
        };
        // Lint again: the rules (or the tenant's other templates) may have changed since approval.
        let template = parse_json(&body.to_string()).map_err(|e| e.to_string())?;
        let report = LintReport::new(&template, &LintContext::new());
        if !report.submittable {
            self.refuse(
                &job,
                &key,
                history(
                    "SUBMISSION_REFUSED",
                    json!({"reason": "LINT", "lint": report}),
                ),
            )
            .await?;
            return Ok("refused by lint".into());
        }
        let waba = crate::routes::tenant_waba(self.table.as_ref(), &job.tenant)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("tenant {} has no WABA configured", job.tenant))?;
        let token = self
            .tokens
            .token(&job.tenant)
            .await
            .map_err(|e| e.to_string())?;
        match self.graph.create_template(&token, &waba, &body).await {
            Ok(created) => {
                let lang = Update::default()
                    .set("status", created.status.as_str())
                    .set("status_at", now)
                    .set("template_id", created.id.as_str())
                    .set("submitted_version", job.version)
                    .set(
                        "category",
                        created.category.clone().map_or(Value::Null, Value::from),
                    );
                self.table
                    .transact(vec![
                        TxOp::Update {
                            key: key.clone(),
                            update: Update::default()
                                .set("state", "submitted")
                                .set("submitted_at", now),
                            condition: None,
                        },
                        TxOp::Update {
                            key: lang_key(&job.tenant, &job.name, &job.language),
                            update: lang,
                            condition: None,
                        },
                        TxOp::Put {
                            item: history(
                                "SUBMITTED",
                                json!({"template_id": created.id, "status": created.status}),
                            ),
                            condition: None,
                        },
                    ])
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(format!("created {}", created.id))
            }
            Err(e) if e.is_retryable() || e.is_token_problem() => Err(e.to_string()),
            Err(e) => {
                // Meta refused the template at creation (a format error, a duplicate): recorded with
                // its reason, visible in the history, back to the author.
                self.refuse(
                    &job,
                    &key,
                    history("SUBMISSION_REFUSED", json!({"reason": e.to_string()})),
                )
                .await?;
                Ok("refused by Meta".into())
            }
        }
    }

    async fn refuse(&self, job: &Job, key: &Key, event: Item) -> Result<(), String> {
        self.table
            .transact(vec![
                TxOp::Update {
                    key: key.clone(),
                    update: Update::default().set("state", "refused"),
                    condition: None,
                },
                TxOp::Put {
                    item: event,
                    condition: None,
                },
            ])
            .await
            .map_err(|e| format!("{e} (template {})", job.name))
    }
}

#[async_trait::async_trait]
impl crate::worker::Handler for Submitter {
    async fn handle_message(
        &self,
        body: &str,
        _receive_count: u32,
    ) -> Result<(), crate::worker::Retry> {
        self.handle(body).await.map(|_| ()).map_err(Into::into)
    }
}

/// Checks a send request's parameters against the submitted definition and current status of a
/// template, before it reaches Meta (132000, 132001, 132005, 132012, 132015, 132016).
/// What the outbound gate needs to know about a template send: the template's category (its
/// traffic class and consent rules) and what send-time validation finds.
pub async fn send_facts(
    table: &dyn Table,
    tenant: &str,
    name: &str,
    lang: &str,
    components: &Value,
) -> Result<
    (
        Option<String>,
        Vec<switchboard_core::template::send::SendProblem>,
    ),
    StoreError,
> {
    let category = table
        .get(&lang_key(tenant, name, lang))
        .await?
        .and_then(|c| c.get("category").and_then(Value::as_str).map(str::to_owned))
        .filter(|c| !c.is_empty());
    let problems = validate_send(table, tenant, name, lang, components).await?;
    Ok((category, problems))
}

/// The tenant's approved templates: what an operator may send when the window is closed.
pub async fn sendable_templates(table: &dyn Table, tenant: &str) -> Result<Vec<Value>, StoreError> {
    let mut q = Query::partition(Index::Gsi2, format!("T#{tenant}#DRAFTS"));
    q.limit = 200;
    let mut seen = BTreeSet::new();
    let mut latest: std::collections::BTreeMap<(String, String), Item> = Default::default();
    loop {
        let page = table.query(&q).await?;
        for it in page.items {
            let k = (s(&it, "name"), s(&it, "language"));
            seen.insert(k.clone());
            latest.insert(k, it);
        }
        match page.cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    let mut out = Vec::new();
    for (name, lang) in seen {
        let Some(current) = table.get(&lang_key(tenant, &name, &lang)).await? else {
            continue;
        };
        if s(&current, "status") != "APPROVED" {
            continue;
        }
        let draft = latest.get(&(name.clone(), lang.clone()));
        let template = draft.and_then(|d| d.get("template"));
        let body = template
            .and_then(|t| t.get("components"))
            .and_then(Value::as_array)
            .and_then(|cs| {
                cs.iter().find(|c| {
                    c.get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.eq_ignore_ascii_case("body"))
                })
            })
            .and_then(|c| c.get("text"))
            .cloned()
            .unwrap_or(Value::Null);
        out.push(json!({
            "name": name, "language": lang,
            "category": current.get("category").cloned().unwrap_or(Value::Null),
            "body": body,
        }));
    }
    Ok(out)
}

pub async fn validate_send(
    table: &dyn Table,
    tenant: &str,
    name: &str,
    lang: &str,
    components: &Value,
) -> Result<Vec<switchboard_core::template::send::SendProblem>, StoreError> {
    use switchboard_core::template::send::{validate_send as check, SendProblem};
    let missing = |message: String| {
        vec![SendProblem {
            code: 132001,
            component: "template".into(),
            message,
        }]
    };
    let Some(current) = table.get(&lang_key(tenant, name, lang)).await? else {
        return Ok(missing(format!("no template {name} in {lang}")));
    };
    let Some(version) = current.get("submitted_version").and_then(Value::as_i64) else {
        return Ok(missing(format!("{name} ({lang}) was never submitted")));
    };
    let draft = table
        .get(&Key::new(pk(tenant, name), draft_sk(lang, version)))
        .await?;
    let Some(template) = draft
        .and_then(|d| d.get("template").cloned())
        .and_then(|v| from_value(v).ok())
    else {
        return Ok(missing("the submitted definition is missing".into()));
    };
    Ok(check(&template, &s(&current, "status"), components))
}

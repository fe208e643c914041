//! Linting one realistic template against its floor:
//! - baseline: `serde_json::from_str` of the same JSON into the model, nothing else;
//! - lint_json: parse + every rule (the API's call), with a WABA of 250 existing templates in the
//!   context for the duplicate rule;
//! - lint_parsed: the rules alone, on an already parsed template.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use switchboard_core::template::{lint, lint_json, ExistingTemplate, LintContext, Template};

/// A utility template as an editor posts it: text header, a 390-character body with four
/// variables, footer, three buttons; Portuguese, so folding and the word lists do real work.
const TEMPLATE: &str = r#"{
  "name": "pedido_enviado_detalhes",
  "language": "pt_BR",
  "category": "UTILITY",
  "parameter_format": "positional",
  "message_send_ttl_seconds": 3600,
  "components": [
    {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}} a caminho", "example": {"header_text": ["4471"]}},
    {"type": "BODY",
     "text": "Olá {{1}}, seu pedido {{2}} saiu do nosso centro de distribuição hoje e deve chegar até {{3}}.\n\nVocê pode acompanhar a entrega pelo botão abaixo. Se não estiver em casa, o entregador fará uma nova tentativa no dia útil seguinte, e o pacote fica disponível para retirada na agência {{4}} por 7 dias.\n\nQualquer dúvida, é só responder esta mensagem. Obrigado por comprar com a gente!",
     "example": {"body_text": [["Ana", "4471", "17 de janeiro", "Centro"]]}},
    {"type": "FOOTER", "text": "Loja Exemplo · atendimento 8h–20h"},
    {"type": "BUTTONS", "buttons": [
      {"type": "URL", "text": "Rastrear pedido", "url": "https://example.com.br/rastreio/{{1}}", "example": ["https://example.com.br/rastreio/4471"]},
      {"type": "QUICK_REPLY", "text": "Falar com atendente"},
      {"type": "QUICK_REPLY", "text": "Parar avisos"}]}
  ]
}"#;

fn context() -> LintContext {
    LintContext::with_existing((0..250).map(|i| ExistingTemplate {
        name: format!("template_{i}"),
        language: "pt_BR".into(),
        body: format!("Olá {{{{1}}}}, sua mensagem número {i} sobre o pedido {{{{2}}}} chegou."),
        footer: Some("Loja Exemplo".into()),
    }))
}

fn bench(c: &mut Criterion) {
    let ctx = context();
    assert!(
        lint_json(TEMPLATE, &ctx).unwrap().is_empty(),
        "the benchmark template lints clean"
    );
    let parsed: Template = serde_json::from_str(TEMPLATE).unwrap();
    let mut g = c.benchmark_group("template_lint_one");
    g.bench_function("baseline_parse_only", |b| {
        b.iter(|| black_box(serde_json::from_str::<Template>(black_box(TEMPLATE)).unwrap()))
    });
    g.bench_function("lint_json", |b| {
        b.iter(|| black_box(lint_json(black_box(TEMPLATE), &ctx).unwrap()))
    });
    g.bench_function("lint_parsed", |b| {
        b.iter(|| black_box(lint(black_box(&parsed), &ctx)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

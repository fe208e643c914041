//! The packaged model against the held-back split of the default data set, at the taxonomy's own
//! thresholds (what production uses). Guards against shipping a model that regressed or that no
//! longer matches its data.

use switchboard_app::nlu::triager;

#[test]
fn packaged_model_scores_on_the_held_back_split() {
    let t = triager(None, None).unwrap();
    let test = switchboard_nlu::read_tsv(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/nlu/default/test.tsv"
    )))
    .unwrap();
    assert!(test.len() >= 500);
    let (mut correct_top1, mut answered, mut answered_correct) = (0, 0, 0);
    for ex in &test {
        let ranked = t.classifier.rank(&ex.text);
        let Some((best, conf)) = ranked.first() else {
            continue;
        };
        if best == &ex.label {
            correct_top1 += 1;
        }
        if *conf >= t.taxonomy.threshold(best) {
            answered += 1;
            if best == &ex.label {
                answered_correct += 1;
            }
        }
    }
    let n = test.len() as f32;
    let accuracy = correct_top1 as f32 / n;
    let coverage = answered as f32 / n;
    let precision = answered_correct as f32 / answered.max(1) as f32;
    eprintln!("default model: top-1 accuracy {accuracy:.3}, answered {coverage:.3}, precision when answering {precision:.3}");
    assert!(accuracy >= 0.85, "top-1 accuracy {accuracy}");
    assert!(precision >= 0.90, "precision when answering {precision}");
    assert!(coverage >= 0.85, "coverage {coverage}");
}

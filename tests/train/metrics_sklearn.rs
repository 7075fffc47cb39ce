//! `neurite::metrics` against scikit-learn on the inputs of
//! tests/fixtures/metrics_sklearn.json (written by metrics_sklearn.py):
//! multi-class and binary precision/recall/F1, the confusion matrix, top-k
//! accuracy, one-vs-rest and binary ROC-AUC and average precision with tied
//! scores, and multi-output MAE, RMSE and R².

use neurite::metrics::{
    Average, average_precision_score, confusion_matrix, mean_absolute_error, precision_recall_f1, r2_score,
    roc_auc_ovr, roc_auc_score, root_mean_squared_error, top_k_accuracy,
};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics_sklearn.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    for x in v.as_array().unwrap() {
        match x.as_array() {
            Some(row) => out.extend(row.iter().map(|y| y.as_f64().unwrap())),
            None => out.push(x.as_f64().unwrap()),
        }
    }
    out
}

fn close(got: f64, want: &Value, what: &str) {
    let want = want.as_f64().unwrap();
    assert!((got - want).abs() < 1e-12, "{what}: {got} vs scikit-learn {want}");
}

#[test]
fn precision_recall_f1_and_confusion_match_sklearn() {
    let f = fixture();
    let m = &f["multiclass"];
    let (t, p) = (usizes(&m["y_true"]), usizes(&m["y_pred"]));
    for (avg, key) in [
        (Average::Macro, "macro"),
        (Average::Micro, "micro"),
        (Average::Weighted, "weighted"),
    ] {
        let s = precision_recall_f1(&t, &p, avg).unwrap();
        close(s.precision, &m[key]["precision"], &format!("{key} precision"));
        close(s.recall, &m[key]["recall"], &format!("{key} recall"));
        close(s.f1, &m[key]["f1"], &format!("{key} f1"));
    }
    let c = m["num_classes"].as_u64().unwrap() as usize;
    let cm = confusion_matrix(&t, &p, c).unwrap();
    let want: Vec<Vec<u64>> = m["confusion_matrix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect())
        .collect();
    assert_eq!(cm, want);
    assert!(
        precision_recall_f1(&t, &p, Average::Binary).is_err(),
        "binary needs two classes"
    );
    assert!(
        confusion_matrix(&t, &p, 3).is_err(),
        "class 4 is out of range for 3 classes"
    );

    let b = &f["binary"];
    let s = precision_recall_f1(&usizes(&b["y_true"]), &usizes(&b["y_pred"]), Average::Binary).unwrap();
    close(s.precision, &b["binary"]["precision"], "binary precision");
    close(s.recall, &b["binary"]["recall"], "binary recall");
    close(s.f1, &b["binary"]["f1"], "binary f1");
}

#[test]
fn top_k_and_ovr_auc_match_sklearn() {
    let f = fixture();
    let s = &f["scores"];
    let (t, probs) = (usizes(&s["y_true"]), floats(&s["probs"]));
    for k in 1..=3 {
        close(
            top_k_accuracy(&t, &probs, 4, k).unwrap(),
            &s["top_k"][k.to_string()],
            &format!("top-{k}"),
        );
    }
    assert_eq!(top_k_accuracy(&t, &probs, 4, 9).unwrap(), 1.0);
    assert!(top_k_accuracy(&t, &probs, 4, 0).is_err());
    assert!(top_k_accuracy(&t, &probs, 3, 1).is_err(), "rows of 4 are not rows of 3");
    close(
        roc_auc_ovr(&t, &probs, 4, Average::Macro).unwrap(),
        &s["roc_auc_ovr_macro"],
        "ovr macro",
    );
    close(
        roc_auc_ovr(&t, &probs, 4, Average::Weighted).unwrap(),
        &s["roc_auc_ovr_weighted"],
        "ovr weighted",
    );
}

#[test]
fn binary_auc_and_average_precision_with_ties_match_sklearn() {
    let f = fixture();
    let b = &f["binary_scores_with_ties"];
    let positive: Vec<bool> = usizes(&b["y_true"]).iter().map(|&y| y == 1).collect();
    let scores = floats(&b["scores"]);
    close(roc_auc_score(&positive, &scores).unwrap(), &b["roc_auc"], "roc_auc");
    close(
        average_precision_score(&positive, &scores).unwrap(),
        &b["average_precision"],
        "average precision",
    );
    assert!(roc_auc_score(&[true, true], &[0.1, 0.2]).is_err(), "one class only");
    assert!(roc_auc_score(&[true, false], &[f64::NAN, 0.2]).is_err());
}

#[test]
fn regression_metrics_match_sklearn() {
    let f = fixture();
    let r = &f["regression"];
    let (t, p) = (floats(&r["y_true"]), floats(&r["y_pred"]));
    close(mean_absolute_error(&t, &p, 3).unwrap(), &r["mae"], "mae");
    close(root_mean_squared_error(&t, &p, 3).unwrap(), &r["rmse"], "rmse");
    close(r2_score(&t, &p, 3).unwrap(), &r["r2"], "r2");
    let c = &r["r2_constant_target"];
    let ct = floats(&c["y_true"]);
    close(
        r2_score(&ct, &floats(&c["exact_pred"]), 1).unwrap(),
        &c["r2_exact"],
        "constant exact",
    );
    close(
        r2_score(&ct, &floats(&c["off_pred"]), 1).unwrap(),
        &c["r2_off"],
        "constant off",
    );
    assert!(mean_absolute_error(&t, &p[1..], 3).is_err());
    assert!(r2_score(&[], &[], 1).is_err());
}

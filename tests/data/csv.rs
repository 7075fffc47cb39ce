//! The CSV reader: label columns by name and index, class and value labels,
//! and errors that name the file, line and column.

use crate::scratch_dir;
use neurite::data::{CsvOptions, LabelColumn, LabelKind, parse_csv, read_csv};
use neurite::{DType, Error};

const IRIS: &str = "sepal_len,sepal_wid,species,petal_len\n\
                    5.1, 3.5, 0, 1.4\n\
                    7.0,3.2,1,4.7\n\
                    \n\
                    6.3,3.3,2,-6e-1\n";

fn format_msg(r: neurite::Result<neurite::data::CsvData>, name: &str) -> String {
    match r {
        Err(Error::Format { path, msg }) => {
            assert_eq!(path, name, "{msg}");
            msg
        }
        Err(other) => panic!("expected Error::Format, got {other}"),
        Ok(d) => panic!("expected Error::Format, got features {}", d.features.shape()),
    }
}

#[test]
fn label_by_name_as_classes() {
    let d = parse_csv(IRIS, "iris.csv", &CsvOptions::label_name("species")).unwrap();
    assert_eq!(d.feature_names, vec!["sepal_len", "sepal_wid", "petal_len"]);
    assert_eq!(d.label_name.as_deref(), Some("species"));
    assert_eq!(
        d.features.to_vec2::<f32>().unwrap(),
        vec![vec![5.1, 3.5, 1.4], vec![7.0, 3.2, 4.7], vec![6.3, 3.3, -0.6]]
    );
    let y = d.labels.clone().unwrap();
    assert_eq!((y.dtype(), y.to_vec1::<i64>().unwrap()), (DType::I64, vec![0, 1, 2]));
    let ds = d.into_dataset().unwrap();
    assert_eq!(ds.len(), 3);
}

#[test]
fn label_by_index_and_from_the_end_as_values() {
    let opts = CsvOptions::label_index(-1).regression();
    let d = parse_csv(IRIS, "iris.csv", &opts).unwrap();
    assert_eq!(d.label_name.as_deref(), Some("petal_len"));
    let y = d.labels.unwrap();
    assert_eq!((y.dtype(), y.dims()), (DType::F32, &[3, 1][..]));
    assert_eq!(y.to_vec::<f32>().unwrap(), vec![1.4, 4.7, -0.6]);
    let d = parse_csv(IRIS, "iris.csv", &CsvOptions::label_index(0).regression()).unwrap();
    assert_eq!(d.features.dims(), &[3, 3]);
    assert_eq!(d.labels.unwrap().to_vec::<f32>().unwrap(), vec![5.1, 7.0, 6.3]);
}

#[test]
fn no_label_and_other_delimiters() {
    let opts = CsvOptions {
        label: LabelColumn::None,
        label_kind: LabelKind::Class,
        delimiter: b';',
    };
    let d = parse_csv("a;b\n1;2\n3;4\n", "semi.csv", &opts).unwrap();
    assert!(d.labels.is_none());
    assert_eq!(d.features.to_vec2::<f32>().unwrap(), vec![vec![1., 2.], vec![3., 4.]]);
    assert!(d.into_dataset().is_err());
}

#[test]
fn reads_a_file_and_names_it_in_errors() {
    let dir = scratch_dir("csv-file");
    let p = dir.join("data.csv");
    std::fs::write(&p, "x,y,label\n1,2,0\n3,oops,1\n").unwrap();
    let name = p.display().to_string();
    let msg = format_msg(read_csv(&p, &CsvOptions::default()), &name);
    assert!(
        msg.contains("line 3") && msg.contains("column 2") && msg.contains("\"oops\""),
        "{msg}"
    );
    let full = read_csv(&p, &CsvOptions::default()).unwrap_err().to_string();
    assert!(full.starts_with(&name), "{full}");
    std::fs::write(&p, "x,y,label\r\n1,2,0\r\n3,4,1\r\n").unwrap();
    assert_eq!(read_csv(&p, &CsvOptions::default()).unwrap().features.dims(), &[2, 2]);
    let e = read_csv(dir.join("missing.csv"), &CsvOptions::default()).unwrap_err();
    assert!(
        matches!(e, Error::Io { .. }) && e.to_string().contains("missing.csv"),
        "{e}"
    );
}

#[test]
fn bad_number_at_line_n() {
    let text = "a,b,c\n1,2,0\n3,4,1\n5,x7,1\n";
    let msg = format_msg(parse_csv(text, "t.csv", &CsvOptions::default()), "t.csv");
    assert!(msg.starts_with("line 4:"), "{msg}");
    assert!(
        msg.contains("column 2 (\"b\")") && msg.contains("not a number"),
        "{msg}"
    );
    let msg = format_msg(parse_csv("a,b\n1,\n", "t.csv", &CsvOptions::default()), "t.csv");
    assert!(msg.starts_with("line 2:") && msg.contains("empty value"), "{msg}");
    let msg = format_msg(parse_csv("a,b\nnan,1\n", "t.csv", &CsvOptions::default()), "t.csv");
    assert!(msg.starts_with("line 2:") && msg.contains("finite"), "{msg}");
}

#[test]
fn ragged_rows() {
    let msg = format_msg(
        parse_csv("a,b,c\n1,2,3\n4,5\n", "r.csv", &CsvOptions::default()),
        "r.csv",
    );
    assert!(
        msg.starts_with("line 3:") && msg.contains("2 fields") && msg.contains("3 columns"),
        "{msg}"
    );
    let msg = format_msg(
        parse_csv("a,b\n1,2\n3,4\n5,6,7\n", "r.csv", &CsvOptions::default()),
        "r.csv",
    );
    assert!(msg.starts_with("line 4:") && msg.contains("3 fields"), "{msg}");
}

#[test]
fn bad_labels_and_headers() {
    let msg = format_msg(parse_csv("a,y\n1,0\n2,1.5\n", "l.csv", &CsvOptions::default()), "l.csv");
    assert!(
        msg.starts_with("line 3:") && msg.contains("1.5") && msg.contains("integer"),
        "{msg}"
    );
    let msg = format_msg(parse_csv("a,y\n1,-1\n", "l.csv", &CsvOptions::default()), "l.csv");
    assert!(msg.starts_with("line 2:") && msg.contains("-1"), "{msg}");
    let msg = format_msg(
        parse_csv("a,y\n1,0\n", "l.csv", &CsvOptions::label_name("class")),
        "l.csv",
    );
    assert!(
        msg.starts_with("line 1:") && msg.contains("\"class\"") && msg.contains("\"a\""),
        "{msg}"
    );
    let msg = format_msg(parse_csv("a,y\n1,0\n", "l.csv", &CsvOptions::label_index(5)), "l.csv");
    assert!(msg.contains("out of range"), "{msg}");
    let msg = format_msg(parse_csv("", "e.csv", &CsvOptions::default()), "e.csv");
    assert!(msg.contains("empty"), "{msg}");
    let msg = format_msg(parse_csv("a,y\n", "h.csv", &CsvOptions::default()), "h.csv");
    assert!(msg.contains("no data lines"), "{msg}");
}

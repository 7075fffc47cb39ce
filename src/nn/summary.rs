//! The text table behind [`super::Sequential::summary`].

use super::Module;
use crate::Tensor;

/// `1234567` as `"1,234,567"`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Renders rows of `(layer, output shape, parameter count)` with totals.
pub(crate) fn format_table(input_shape: &[usize], rows: &[(String, Vec<usize>, usize)], model: &dyn Module) -> String {
    let header = ("Layer (type)", "Output Shape", "Param #");
    let shapes: Vec<String> = rows.iter().map(|r| format!("{:?}", r.1)).collect();
    let counts: Vec<String> = rows.iter().map(|r| thousands(r.2)).collect();
    let w0 = rows
        .iter()
        .map(|r| r.0.len())
        .chain([header.0.len()])
        .max()
        .unwrap_or(0)
        + 4;
    let w1 = shapes
        .iter()
        .map(|s| s.len())
        .chain([header.1.len()])
        .max()
        .unwrap_or(0)
        + 4;
    let w2 = counts
        .iter()
        .map(|s| s.len())
        .chain([header.2.len()])
        .max()
        .unwrap_or(0);
    let width = w0 + w1 + w2;

    let mut s = format!("Input shape: {input_shape:?}\n");
    s += &"_".repeat(width);
    s += &format!("\n{:<w0$}{:<w1$}{:>w2$}\n", header.0, header.1, header.2);
    s += &"=".repeat(width);
    s.push('\n');
    for ((r, shape), count) in rows.iter().zip(&shapes).zip(&counts) {
        s += &format!("{:<w0$}{:<w1$}{:>w2$}\n", r.0, shape, count);
    }
    s + &totals(&model.named_parameters(), &model.named_buffers(), width)
}

/// The closing lines both tables share: parameter and buffer totals.
fn totals(params: &[(String, Tensor)], buffers: &[(String, Tensor)], width: usize) -> String {
    let total: usize = params.iter().map(|(_, t)| t.elem_count()).sum();
    let trainable: usize = params
        .iter()
        .filter(|(_, t)| t.is_requires_grad())
        .map(|(_, t)| t.elem_count())
        .sum();
    let buffers: usize = buffers.iter().map(|(_, t)| t.elem_count()).sum();
    let mut s = "=".repeat(width);
    s += &format!("\nTotal params: {}\n", thousands(total));
    s += &format!("Trainable params: {}\n", thousands(trainable));
    s += &format!("Non-trainable params: {}\n", thousands(total - trainable));
    s += &format!("Buffer elements: {}\n", thousands(buffers));
    s += &"_".repeat(width);
    s.push('\n');
    s
}

/// The text of [`super::Module::summary_tree`]: one line per descendant,
/// indented by depth, with the parameters it owns directly and in total.
pub(crate) fn tree(
    root: String,
    modules: &[(String, &dyn Module)],
    params: &[(String, Tensor)],
    buffers: &[(String, Tensor)],
) -> String {
    let count_under = |prefix: &str| -> usize {
        params
            .iter()
            .filter(|(n, _)| n.starts_with(prefix) && n.as_bytes().get(prefix.len()) == Some(&b'.'))
            .map(|(_, t)| t.elem_count())
            .sum()
    };
    let rows: Vec<(String, String)> = modules
        .iter()
        .map(|(n, m)| {
            let depth = n.matches('.').count();
            let short = n.rsplit('.').next().unwrap_or(n);
            (
                format!("{}{short} ({})", "  ".repeat(depth + 1), m.name()),
                thousands(count_under(n)),
            )
        })
        .collect();
    let w0 = rows
        .iter()
        .map(|r| r.0.len())
        .chain([root.len(), 12])
        .max()
        .unwrap_or(0)
        + 4;
    let w1 = rows.iter().map(|r| r.1.len()).chain([7]).max().unwrap_or(0);
    let total: usize = params.iter().map(|(_, t)| t.elem_count()).sum();
    let width = w0 + w1;
    let mut s = "_".repeat(width);
    s += &format!("\n{:<w0$}{:>w1$}\n", "Module (type)", "Param #");
    s += &"=".repeat(width);
    s += &format!("\n{:<w0$}{:>w1$}\n", root, thousands(total));
    for (name, count) in &rows {
        s += &format!("{name:<w0$}{count:>w1$}\n");
    }
    s + &totals(params, buffers, width)
}

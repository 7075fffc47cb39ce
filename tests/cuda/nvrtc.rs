//! Every kernel in `kernels/` compiles with NVRTC for each architecture CI
//! covers that this NVRTC supports, and a broken kernel fails with NVRTC's log.
//! Skips (with a printed reason) when libnvrtc cannot be loaded, unless
//! `NEURITE_REQUIRE_NVRTC=1` (set by CI), which also fails when NVRTC lacks one
//! of the CI architectures. `NEURITE_EXPECT_NVRTC=12.9` (CI runs the test once
//! per NVRTC, choosing it with `LD_LIBRARY_PATH`) fails unless the NVRTC that was
//! loaded is that version, so a run can never silently test another NVRTC.
//! With `NEURITE_PTX_DUMP=dir` the PTX is written there as
//! `{family}.nvrtc{major}.{minor}.sm_{arch}.ptx` (CI runs `ptxas -v` on it).

use neurite::Error;
use neurite::backend::cuda::{compile_kernel_ptx, compile_source_ptx, kernel_families, nvrtc_version};

fn nvrtc_or_skip(test: &str) -> bool {
    match nvrtc_version() {
        Ok(_) => true,
        Err(e) => {
            if std::env::var("NEURITE_REQUIRE_NVRTC").as_deref() == Ok("1") {
                panic!("NEURITE_REQUIRE_NVRTC=1 but NVRTC is unavailable: {e}");
            }
            crate::note(&format!("{test}: skipped: {e}"));
            false
        }
    }
}

const FLOATS: [&str; 4] = ["f32", "f64", "f16", "bf16"];
const SIZES: [&str; 4] = ["b1", "b2", "b4", "b8"];
const INTS: [&str; 4] = ["i64", "i32", "i8", "u8"];
const ALL_DTYPES: [&str; 9] = ["f32", "f64", "f16", "bf16", "i64", "i32", "i8", "u8", "bool"];

fn each(prefixes: &[&str], suffixes: &[&str]) -> Vec<String> {
    prefixes
        .iter()
        .flat_map(|p| suffixes.iter().map(move |s| format!("{p}_{s}")))
        .collect()
}

/// The kernels the Rust side launches, per family.
fn expected_kernels(family: &str) -> Vec<String> {
    let mut k = match family {
        "unary" => each(&["unary"], &FLOATS),
        "binary" => each(&["binary"], &FLOATS),
        "reduce" => each(
            &[
                "reduce_block",
                "reduce_thread",
                "reduce_partial",
                "reduce_finish",
                "argreduce_block",
                "argreduce_thread",
                "argreduce_partial",
                "argreduce_finish",
            ],
            &FLOATS,
        ),
        "copy" => each(&["copy_strided", "cat_part", "fill"], &SIZES),
        "cast" => {
            let all = ALL_DTYPES;
            let mut v = Vec::new();
            for s in all {
                for d in all {
                    if s != d {
                        v.push(format!("cast_{s}_{d}"));
                    }
                }
            }
            v
        }
        "index" => {
            let mut v = each(&["index_select", "gather"], &SIZES);
            v.extend(each(&["index_add", "scatter_add"], &FLOATS));
            v
        }
        "conv" => each(&["im2col", "col2im"], &FLOATS),
        "random" => each(&["rand_uniform", "dropout_mask"], &FLOATS),
        "optim" => each(&["sgd", "adam", "rmsprop"], &FLOATS),
        "sort" => each(&["sort_thread", "sort_block"], &["f32", "f64", "f16", "bf16", "i64"]),
        "scan" => each(&["scan_thread"], &FLOATS),
        other => panic!("kernel family {other} has no expected-kernel list in tests/cuda/nvrtc.rs"),
    };
    match family {
        "unary" => {
            k.extend(each(&["cmp_scalar"], &ALL_DTYPES));
            k.extend(each(&["unary"], &INTS));
        }
        "binary" => {
            k.extend(each(&["binary"], &INTS));
            k.extend(each(&["cmp"], &ALL_DTYPES));
            k.extend(each(&["where_m1", "where_m2", "where_m4", "where_m8"], &SIZES));
        }
        "reduce" => {
            k.extend(each(
                &[
                    "argreduce_block",
                    "argreduce_thread",
                    "argreduce_partial",
                    "argreduce_finish",
                ],
                &["i64"],
            ));
            k.extend(each(
                &["argreduce_block", "argreduce_thread"],
                &["i32", "i8", "u8", "bool"],
            ));
            k.extend(each(&["reduce_int"], &INTS));
        }
        _ => {}
    }
    k
}

/// The source folder `kernels/`, or `None` (after a note) where the tests run
/// from a bundle without sources, as on a GPU machine.
fn kernels_dir(test: &str) -> Option<std::path::PathBuf> {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo or the GPU runner sets CARGO_MANIFEST_DIR");
    let dir = std::path::PathBuf::from(root).join("kernels");
    if dir.is_dir() {
        Some(dir)
    } else {
        crate::note(&format!("{test}: skipped: no {} here", dir.display()));
        None
    }
}

#[test]
fn every_kernel_file_is_embedded() {
    let Some(dir) = kernels_dir("every_kernel_file_is_embedded") else {
        return;
    };
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("kernels/ is readable")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".cu"))
                .map(String::from)
        })
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = kernel_families().into_iter().map(String::from).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "build.rs must embed exactly the files of kernels/");
    assert!(
        embedded.len() >= 9,
        "expected at least nine kernel families, got {embedded:?}"
    );
}

/// The architectures CI compiles for: Ampere (A100, consumer Ampere), Ada,
/// Hopper, datacenter Blackwell and consumer Blackwell.
const CI_ARCHS: [u32; 6] = [80, 86, 89, 90, 100, 120];

/// The architectures the loaded NVRTC can target, as `major * 10 + minor`.
/// Asked of NVRTC itself (not a table kept here), so a new NVRTC that drops an
/// architecture shows up as a missing one rather than as a compile error.
fn nvrtc_supported_archs() -> Vec<u32> {
    use cudarc::nvrtc::sys;
    let mut n = 0;
    // SAFETY: callers have checked with `nvrtc_version()` that libnvrtc is loaded, so these symbols resolve; `n` is a
    // valid out-pointer, and the buffer holds exactly the count NVRTC reported. a count of 0 gives an empty buffer,
    // into which NVRTC writes nothing.
    unsafe {
        assert_eq!(sys::nvrtcGetNumSupportedArchs(&mut n), sys::nvrtcResult::NVRTC_SUCCESS);
        let mut archs = vec![0i32; usize::try_from(n).expect("a non-negative count")];
        assert_eq!(
            sys::nvrtcGetSupportedArchs(archs.as_mut_ptr()),
            sys::nvrtcResult::NVRTC_SUCCESS
        );
        archs
            .into_iter()
            .map(|a| u32::try_from(a).expect("a positive arch"))
            .collect()
    }
}

#[test]
fn every_kernel_compiles_for_every_ci_arch() {
    if !nvrtc_or_skip("every_kernel_compiles_for_every_ci_arch") {
        return;
    }
    let (major, minor) = nvrtc_version().expect("NVRTC answered above");
    let version = format!("{major}.{minor}");
    if let Ok(want) = std::env::var("NEURITE_EXPECT_NVRTC") {
        assert_eq!(
            version, want,
            "NEURITE_EXPECT_NVRTC={want} but NVRTC {version} was loaded"
        );
    }
    let supported = nvrtc_supported_archs();
    let (archs, missing): (Vec<u32>, Vec<u32>) = CI_ARCHS.iter().partition(|a| supported.contains(a));
    if !missing.is_empty() {
        let msg = format!("NVRTC {version} cannot target {missing:?} (it supports {supported:?})");
        if std::env::var("NEURITE_REQUIRE_NVRTC").as_deref() == Ok("1") {
            panic!("NEURITE_REQUIRE_NVRTC=1: {msg}");
        }
        crate::note(&format!("every_kernel_compiles_for_every_ci_arch: not compiled: {msg}"));
    }
    assert!(!archs.is_empty(), "NVRTC {version} supports none of {CI_ARCHS:?}");
    let dump = std::env::var_os("NEURITE_PTX_DUMP").map(std::path::PathBuf::from);
    if let Some(d) = &dump {
        std::fs::create_dir_all(d).expect("create NEURITE_PTX_DUMP");
    }
    // Sequential: on the 2-core CI machine (which shares its cores with other
    // jobs) compiling the architectures on separate threads, or the two NVRTCs
    // in two processes, measured no faster; one loop keeps the log in order.
    for &arch in &archs {
        for family in kernel_families() {
            let ptx = compile_kernel_ptx(family, arch)
                .unwrap_or_else(|e| panic!("NVRTC {version}: {family} for sm_{arch}: {e}"));
            assert!(
                ptx.contains(&format!(".target sm_{arch}")),
                "NVRTC {version}: {family}: PTX does not target sm_{arch}"
            );
            for k in expected_kernels(family) {
                assert!(
                    ptx.contains(&format!(".entry {k}(")),
                    "NVRTC {version}: {family} for sm_{arch}: kernel {k} missing from the PTX"
                );
            }
            if let Some(d) = &dump {
                let file = d.join(format!("{family}.nvrtc{version}.sm_{arch}.ptx"));
                std::fs::write(file, &ptx).expect("write PTX");
            }
        }
    }
}

#[test]
fn kernels_are_header_free() {
    // The header-free choice (docs/GPU.md): NVRTC gets no include path, so an
    // #include would fail on machines without the CUDA headers.
    let Some(dir) = kernels_dir("kernels_are_header_free") else {
        return;
    };
    for family in kernel_families() {
        let src = std::fs::read_to_string(dir.join(format!("{family}.cu"))).expect("read kernel source");
        assert!(!src.contains("#include"), "kernels/{family}.cu includes a header");
    }
    let prelude = std::fs::read_to_string(dir.join("prelude.cuh")).expect("read prelude");
    assert!(!prelude.contains("#include"), "kernels/prelude.cuh includes a header");
}

#[test]
fn a_broken_kernel_reports_the_nvrtc_log() {
    if !nvrtc_or_skip("a_broken_kernel_reports_the_nvrtc_log") {
        return;
    }
    let src = "extern \"C\" __global__ void broken(float* x) { x[0] = undefined_symbol_here; }";
    match compile_source_ptx("broken", src, 80) {
        Err(Error::Cuda { op, msg }) => {
            assert_eq!(op, "nvrtc");
            assert!(msg.contains("undefined_symbol_here"), "log lacks the culprit: {msg}");
            assert!(msg.contains("broken.cu"), "log lacks the file name: {msg}");
        }
        other => panic!("expected an NVRTC error, got {other:?}"),
    }
    let good = "extern \"C\" __global__ void ok(float* x) { x[threadIdx.x] = 1.0f; }";
    let ptx = compile_source_ptx("ok", good, 90).expect("a valid kernel compiles");
    assert!(ptx.contains(".entry ok("));
}

#[test]
fn unknown_family_is_an_error() {
    assert!(matches!(
        compile_kernel_ptx("no_such_family", 80),
        Err(Error::InvalidArgument { .. })
    ));
}

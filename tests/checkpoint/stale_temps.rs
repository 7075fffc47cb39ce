//! A save removes the temporary files that earlier saves to the same target
//! left behind when their process died, and nothing else.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use crate::common::{tiny_model, tmp_dir, values};
use neurite::Device;
use neurite::nn::{Module, Sequential};
use std::path::Path;
use std::process::Command;

/// The PID of a process that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait for true");
    pid
}

fn touch(path: &Path) {
    std::fs::write(path, b"partial checkpoint").unwrap();
}

#[test]
fn a_save_removes_only_the_stale_temporaries_of_its_target() {
    let dir = tmp_dir("stale-temps");
    let target = dir.join("model.ckpt");
    let dead = dead_pid();
    let own = std::process::id();
    let mut sleeper = Command::new("sleep").arg("60").spawn().expect("spawn sleep");
    let live = sleeper.id();

    let stale = [
        format!(".model.ckpt.tmp-{dead}-0"),
        format!(".model.ckpt.tmp-{dead}-17"),
    ];
    let kept = [
        // Live writers: this process (another thread may be saving) and another one.
        format!(".model.ckpt.tmp-{own}-999999"),
        format!(".model.ckpt.tmp-{live}-0"),
        // Other targets.
        format!(".other.ckpt.tmp-{dead}-0"),
        format!(".model.ckpt.bak.tmp-{dead}-0"),
        format!(".model.tmp-{dead}-0"),
        // Lookalikes that are not exactly the pattern.
        format!("model.ckpt.tmp-{dead}-0"),
        format!(".model.ckpt.tmp-{dead}-0.bak"),
        format!(".model.ckpt.tmp-0{dead}-0"),
        format!(".model.ckpt.tmp-{dead}"),
        format!(".model.ckpt.tmp-{dead}-x"),
        format!(".model.ckpt.tmp-{dead}-1-2"),
        "unrelated.txt".to_string(),
    ];
    for name in stale.iter().chain(&kept) {
        touch(&dir.join(name));
    }
    // A folder and a link under stale names are not files neurite wrote.
    let folder = dir.join(format!(".model.ckpt.tmp-{dead}-5"));
    std::fs::create_dir(&folder).unwrap();
    let link = dir.join(format!(".model.ckpt.tmp-{dead}-6"));
    std::os::unix::fs::symlink(dir.join("unrelated.txt"), &link).unwrap();

    let model = tiny_model();
    model.save(&target).unwrap();

    for name in &stale {
        assert!(!dir.join(name).exists(), "{name} should be removed");
    }
    for name in &kept {
        assert!(dir.join(name).exists(), "{name} should be kept");
    }
    assert!(folder.is_dir());
    assert!(link.symlink_metadata().is_ok());
    assert!(dir.join("unrelated.txt").exists(), "the link's target is untouched");
    assert_eq!(
        values(&Sequential::load(&target, &Device::cpu()).unwrap()),
        values(&model)
    );

    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

#[test]
fn safetensors_exports_clean_up_too() {
    let dir = tmp_dir("stale-temps-safetensors");
    let dead = dead_pid();
    let stale = dir.join(format!(".w.safetensors.tmp-{dead}-3"));
    touch(&stale);
    let other = dir.join(format!(".model.ckpt.tmp-{dead}-3"));
    touch(&other);
    tiny_model().save_safetensors(dir.join("w.safetensors")).unwrap();
    assert!(!stale.exists());
    assert!(other.exists(), "another target's file is kept");
}

//! `northbound calibrate` survives an interruption: every evaluation is
//! kept in a store beside the result file as it is made, the same command
//! rerun after SIGINT answers those from the store and computes the rest,
//! and the TOML it writes is byte-identical to an uninterrupted run's. A
//! different command on the store is refused (exit 2), `--force` starts
//! afresh, and a folder of that name northbound did not make is never used.
//! For both models.

mod common;

use common::{bin, scenario};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Output};
use std::time::{Duration, Instant};

/// A calibration small enough to run in seconds, slow enough to interrupt.
#[derive(Clone)]
struct Calibration {
    scenario: PathBuf,
    targets: PathBuf,
    params: &'static str,
    budget: &'static str,
}

impl Calibration {
    fn roxham() -> Calibration {
        Calibration {
            scenario: scenario("roxham-2017-2020.toml"),
            targets: Path::new(env!("CARGO_MANIFEST_DIR")).join("validation/roxham-2017-2018.toml"),
            params: "behaviour.w_dist=0.5:3,behaviour.w_fail=0:2",
            budget: "10",
        }
    }

    fn mali() -> Calibration {
        Calibration {
            scenario: scenario("flee-mali2012.toml"),
            targets: Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/flee/mali2012/source_data"),
            params: "flee.camp_weight=1:10,flee.conflict_weight=0.1:1",
            budget: "12",
        }
    }

    /// The command writing to `out`, with `extra` arguments.
    fn command(&self, out: &Path, extra: &[&str]) -> std::process::Command {
        let mut c = bin();
        c.arg("calibrate")
            .arg(&self.scenario)
            .arg("--targets")
            .arg(&self.targets)
            .args(["--params", self.params, "--budget", self.budget])
            .args(["--replicates", "1", "--threads", "2", "--quiet", "--out"])
            .arg(out)
            .args(extra);
        c
    }

    fn run(&self, out: &Path, extra: &[&str]) -> Output {
        self.command(out, extra).output().expect("the binary starts")
    }
}

fn ok(o: &Output) {
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
}

fn store(out: &Path) -> PathBuf {
    out.with_file_name(format!(".{}.study", out.file_name().expect("name").to_string_lossy()))
}

fn store_lines(out: &Path) -> usize {
    std::fs::read_to_string(store(out).join("rows.jsonl"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// Sends SIGINT to `child` as soon as `ready()`; its exit status.
fn interrupt_once(mut child: Child, ready: impl Fn() -> bool) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ready() {
        let running = child.try_wait().expect("wait").is_none();
        assert!(
            running && Instant::now() < deadline,
            "ended, or kept nothing, before the interruption"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill").args(["-INT", &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -INT {pid}");
    child.wait().expect("wait")
}

/// Runs the calibration whole, then again interrupted with SIGINT once
/// the store holds three evaluations; checks the store refuses another
/// command, then resumes and compares with the whole run byte for byte.
fn interrupted_calibration_resumes_to_the_same_bytes(cal: &Calibration) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let whole = tmp.path().join("whole.toml");
    ok(&cal.run(&whole, &[]));
    assert!(!store(&whole).exists(), "no store is left once the TOML is in place");
    let text = std::fs::read_to_string(&whole).expect("whole.toml");
    assert!(text.starts_with("# northbound calibrate "), "{text}");

    let cut = tmp.path().join("cut.toml");
    let child = cal.command(&cut, &[]).spawn().expect("starts");
    let status = interrupt_once(child, || store_lines(&cut) >= 3);
    assert_eq!(status.code(), Some(130), "SIGINT ends it with 128 + 2");
    assert!(!cut.exists(), "no result for an unfinished calibration");
    let kept = store_lines(&cut);
    assert!(kept >= 3, "{kept} evaluations kept");

    // Another command (another budget) on the same file is refused, and says why.
    let other = Calibration {
        budget: "3",
        ..cal.clone()
    };
    let o = other.run(&cut, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("unfinished study of another command") && e.contains("budget") && e.contains("--force"),
        "{e}"
    );
    assert_eq!(store_lines(&cut), kept, "the refused command leaves the store alone");

    // The same command resumes and writes the same bytes.
    ok(&cal.run(&cut, &[]));
    assert_eq!(
        std::fs::read_to_string(&cut).expect("cut.toml"),
        text,
        "the resumed calibration is byte-identical"
    );
    assert!(!store(&cut).exists(), "the store is gone once the TOML is in place");
}

#[test]
fn an_interrupted_calibration_resumes_to_the_same_bytes() {
    interrupted_calibration_resumes_to_the_same_bytes(&Calibration::roxham());
}

#[test]
fn an_interrupted_flee_calibration_resumes_to_the_same_bytes() {
    let cal = Calibration::mali();
    if !cal.targets.is_dir() {
        eprintln!("skipped: {} is not beside the checkout", cal.targets.display());
        return;
    }
    interrupted_calibration_resumes_to_the_same_bytes(&cal);
}

#[test]
fn force_starts_a_calibration_afresh_and_a_foreign_folder_is_never_its_store() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let cal = Calibration {
        budget: "2",
        ..Calibration::roxham()
    };
    let out = tmp.path().join("cal.toml");
    let s = store(&out);
    std::fs::create_dir(&s).expect("dir");
    std::fs::write(s.join("notes.txt"), "mine").expect("file");
    for extra in [&[][..], &["--force"][..]] {
        let o = cal.run(&out, extra);
        assert_eq!(
            o.status.code(),
            Some(2),
            "a folder that is not ours is refused, even with --force"
        );
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("not the store of a northbound study"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert_eq!(std::fs::read_to_string(s.join("notes.txt")).expect("kept"), "mine");
    std::fs::remove_dir_all(&s).expect("rm");

    // A store of another command (here: a budget of 3) gives way to --force.
    std::fs::create_dir(&s).expect("dir");
    std::fs::write(
        s.join("study.json"),
        r#"{"store": "northbound-study-store", "fingerprint": {"command": "calibrate", "budget": 3}}"#,
    )
    .expect("study.json");
    std::fs::write(s.join("rows.jsonl"), "{\"at\":0,\"key\":[1],\"value\":[1,0]}\n").expect("rows");
    assert_eq!(cal.run(&out, &[]).status.code(), Some(2));
    ok(&cal.run(&out, &["--force"]));
    assert!(!s.exists(), "the store is gone once the TOML is in place");
    let text = std::fs::read_to_string(&out).expect("cal.toml");
    assert!(text.contains("behaviour.w_fail"), "{text}");
}

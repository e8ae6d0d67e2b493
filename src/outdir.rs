//! Where outputs go, and the rule that keeps what a user has: northbound
//! replaces only what it wrote.
//!
//! Owns the output folder ([`OutDir`]): its temporary sibling, its manifest
//! (`.northbound.json`, the files written with their SHA-256, derived from
//! the folder itself at commit, so a new output file needs nothing here),
//! the check of a destination before any work starts ([`claim`]), the lock
//! that keeps two runs off one destination, the atomic swap, the clean-up
//! of temporary files on SIGINT/SIGTERM/SIGHUP and of stale ones left by a
//! killed process, and the same rule for single files ([`write_file`]) and
//! for a report re-rendered into a folder ([`replace_in_folder`]). Must not
//! know any file format besides the manifest.
//!
//! The rule (docs/outputs.md): a destination is replaced only if it does
//! not exist, is an empty folder, or is a folder whose manifest lists
//! exactly what it holds (`--force` also accepts a northbound folder to
//! which files were added or in which files were changed). Never `/`, the
//! home folder, the current folder or any folder containing it, or a folder
//! containing an input; never a file, a symbolic link or a folder without a
//! manifest.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The manifest's file name, in every top-level output folder.
pub const MANIFEST: &str = ".northbound.json";

/// Why output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The reason.
        source: io::Error,
    },
    /// The destination holds something northbound must not replace (exit 2).
    #[error("refusing to write {path}: {reason}")]
    Refused {
        /// The destination as given.
        path: PathBuf,
        /// Why, and what to do.
        reason: String,
    },
    /// Another process is writing the same destination (exit 2).
    #[error(
        "{path} is being written by another northbound process{}; wait for it to finish or choose another destination",
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    Busy {
        /// The destination.
        path: PathBuf,
        /// The other process, if it said.
        pid: Option<u32>,
    },
}

impl OutputError {
    /// Whether the user's input caused it (exit 2) rather than a failure of
    /// northbound's own (exit 1).
    pub fn is_refusal(&self) -> bool {
        matches!(self, OutputError::Refused { .. } | OutputError::Busy { .. })
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn refused(path: &Path, reason: impl Into<String>) -> OutputError {
    OutputError::Refused {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// How a command writes: whether `--force` was given, the command (for the
/// manifest) and its inputs (a destination may not contain them).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Replace a northbound folder even if files were added to it or changed.
    pub force: bool,
    /// The command line's command (`run`, `compare`, …).
    pub command: String,
    /// Files and folders read by the command.
    pub inputs: Vec<PathBuf>,
}

// ---------------------------------------------------------------------------
// Temporary files and locks of this process, removed on a signal.

#[derive(Default)]
struct Live {
    /// Temporary folders and files being written (canonical paths).
    temps: Vec<PathBuf>,
    /// Lock files held.
    locks: Vec<PathBuf>,
    /// Study stores open (kept on a signal: the same command resumes).
    stores: Vec<PathBuf>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    temps: Vec::new(),
    locks: Vec::new(),
    stores: Vec::new(),
});

fn live() -> std::sync::MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

fn register_temp(p: &Path) {
    live().temps.push(p.to_path_buf());
}

fn unregister_temp(p: &Path) {
    live().temps.retain(|x| x != p);
}

fn remove_any(p: &Path) {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            // Another thread may still be adding files: try a few times.
            for _ in 0..5 {
                if fs::remove_dir_all(p).is_ok() || !p.exists() {
                    break;
                }
            }
        }
        Ok(_) => {
            let _ = fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// Removes this process's temporary files and lock files: called on a
/// signal. Waits for a swap in progress to finish (it holds the same lock).
pub fn clean_up_now() {
    let mut l = live();
    for t in std::mem::take(&mut l.temps) {
        remove_any(&t);
    }
    for k in std::mem::take(&mut l.locks) {
        let _ = fs::remove_file(&k);
    }
}

/// Removes temporary files on SIGINT, SIGTERM and SIGHUP, then exits with
/// 128 + the signal's number. Call once, at the start of the program.
pub fn install_signal_handlers() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            let _ = std::thread::Builder::new()
                .name("northbound-signals".into())
                .spawn(move || {
                    if let Some(sig) = signals.forever().next() {
                        clean_up_now();
                        let kept: Vec<String> = live().stores.iter().map(|d| d.display().to_string()).collect();
                        let said = match kept.is_empty() {
                            true => String::new(),
                            false => format!(
                                "; the work done so far is kept in {} (run the same command again to resume)",
                                kept.join(", ")
                            ),
                        };
                        // Not eprintln!: a closed stderr must not stop the exit.
                        let _ = writeln!(
                            io::stderr(),
                            "\ninterrupted: temporary files removed; nothing was replaced{said}"
                        );
                        std::process::exit(128 + sig);
                    }
                });
        }
    }
}

/// Test hook: `NORTHBOUND_PAUSE_AT=<stage>` makes the process stop at a
/// stage of the swap (`aside`: the old folder renamed aside; `swapped`: the
/// new one in place, the old not yet deleted; `writing`: output started)
/// and say so on stderr, so that a test can kill it there.
fn pause_at(stage: &str) {
    if std::env::var("NORTHBOUND_PAUSE_AT").is_ok_and(|s| s == stage) {
        let _ = writeln!(io::stderr(), "northbound: paused at {stage}");
        std::thread::sleep(std::time::Duration::from_secs(30));
    }
}

// ---------------------------------------------------------------------------
// Locks.

/// An exclusive lock on a destination: `.NAME.lock` beside it, removed when
/// released.
struct Lock {
    path: PathBuf,
    _file: File,
}

impl Lock {
    fn take(dest: &Path, lock_path: PathBuf) -> Result<Lock, OutputError> {
        loop {
            let mut f = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&lock_path)
                .map_err(io_err(&lock_path))?;
            match f.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    let mut s = String::new();
                    let _ = f.read_to_string(&mut s);
                    return Err(OutputError::Busy {
                        path: dest.to_path_buf(),
                        pid: s.trim().parse().ok(),
                    });
                }
                Err(fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
            }
            // The holder before us may have removed the file after we opened
            // it: the lock counts only on the file that is still there.
            if same_file(&f, &lock_path) {
                let _ = f.set_len(0);
                let _ = write!(f, "{}", std::process::id());
                live().locks.push(lock_path.clone());
                return Ok(Lock {
                    path: lock_path,
                    _file: f,
                });
            }
        }
    }
}

#[cfg(unix)]
fn same_file(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_f: &File, path: &Path) -> bool {
    path.exists()
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held: a process waiting on the old file sees
        // that it is gone and opens a new one.
        let _ = fs::remove_file(&self.path);
        live().locks.retain(|x| x != &self.path);
    }
}

// ---------------------------------------------------------------------------
// Destinations.

fn parent_of(dest: &Path) -> PathBuf {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The last component of a destination, or a refusal for `.`, `..` and `/`.
fn name_of(dest: &Path) -> Result<String, OutputError> {
    use std::path::Component;
    match dest.components().next_back() {
        Some(Component::Normal(n)) => Ok(n.to_string_lossy().into_owned()),
        _ => Err(refused(
            dest,
            "it is `.`, `..` or `/`, which hold more than northbound's output; \
             name a new folder, e.g. --out out/NAME",
        )),
    }
}

fn canonical_or_self(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// The places a destination may never be, whatever it holds.
fn check_forbidden(dest: &Path, abs: &Path, inputs: &[PathBuf]) -> Result<(), OutputError> {
    if abs.parent().is_none() {
        return Err(refused(dest, "it is the root of the filesystem"));
    }
    if let Ok(cwd) = std::env::current_dir() {
        if canonical_or_self(&cwd).starts_with(abs) {
            return Err(refused(
                dest,
                "it is the current folder or contains it; name a new folder inside it, e.g. --out out/NAME",
            ));
        }
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        if canonical_or_self(Path::new(&home)).starts_with(abs) {
            return Err(refused(
                dest,
                "it is your home folder or contains it; name a new folder, e.g. --out out/NAME",
            ));
        }
    }
    for i in inputs {
        let ci = canonical_or_self(i);
        if ci.starts_with(abs) {
            return Err(refused(
                dest,
                format!(
                    "it contains {}, which this command reads; name a folder of its own, e.g. --out out/NAME",
                    i.display()
                ),
            ));
        }
    }
    Ok(())
}

/// What an existing folder holds beyond its manifest.
fn foreign_entries(dir: &Path) -> Result<Option<Vec<String>>, OutputError> {
    let mut entries = Vec::new();
    walk(dir, "", &mut entries).map_err(io_err(dir))?;
    if entries.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let m = match read_manifest(dir).or_else(|| legacy_manifest(dir, &entries)) {
        Some(m) => m,
        None => return Ok(None),
    };
    let listed: BTreeMap<&str, &ManifestFile> = m.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let mut foreign = Vec::new();
    for (rel, kind) in &entries {
        match kind {
            Entry::File(size) if rel == MANIFEST => {
                let _ = size;
            }
            Entry::File(size) => match listed.get(rel.as_str()) {
                Some(f) if f.bytes == *size && sha256_of(&dir.join(rel)).ok().as_deref() == Some(&f.sha256) => {}
                Some(_) => foreign.push(format!("{rel} (changed since northbound wrote it)")),
                None => foreign.push(rel.clone()),
            },
            Entry::Dir => {
                let prefix = format!("{rel}/");
                if !listed.keys().any(|k| k.starts_with(&prefix)) {
                    foreign.push(format!("{rel}/"));
                }
            }
            Entry::Other => foreign.push(rel.clone()),
        }
    }
    Ok(Some(foreign))
}

/// A run folder written before manifests existed: its `summary.json`
/// (with northbound's `version`) lists the SHA-256 of its tables; with its
/// report.html, that is what it may hold. Anything else is the user's.
fn legacy_manifest(dir: &Path, entries: &[(String, Entry)]) -> Option<Manifest> {
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).ok()?).ok()?;
    v.get("version")?.as_str()?;
    let tables = v.get("tables")?.as_object()?;
    let mut files = Vec::new();
    for (rel, e) in entries {
        let Entry::File(bytes) = e else { return None };
        let sha256 = match tables.get(rel) {
            Some(h) => h.as_str()?.to_string(),
            // Written after the summary, from the tables: northbound's.
            None if rel == "summary.json" || rel == "report.html" => sha256_of(&dir.join(rel)).ok()?,
            None => return None,
        };
        files.push(ManifestFile {
            path: rel.clone(),
            bytes: *bytes,
            sha256,
        });
    }
    Some(Manifest {
        northbound: v["version"].as_str().unwrap_or_default().to_string(),
        command: "run".into(),
        files,
    })
}

enum Entry {
    File(u64),
    Dir,
    Other,
}

/// Every entry under `dir` (relative paths with `/`), not following links.
fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, Entry)>) -> io::Result<()> {
    let mut names: Vec<_> = fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    names.sort_by_key(|e| e.file_name());
    for e in names {
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let t = e.file_type()?;
        if t.is_dir() {
            out.push((r.clone(), Entry::Dir));
            walk(&e.path(), &r, out)?;
        } else if t.is_file() {
            out.push((r, Entry::File(e.metadata()?.len())));
        } else {
            out.push((r, Entry::Other));
        }
    }
    Ok(())
}

fn sha256_of(p: &Path) -> io::Result<String> {
    let mut f = File::open(p)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Checks that `dest` may be replaced by a new output folder.
pub fn check_folder(dest: &Path, opts: &Options) -> Result<(), OutputError> {
    name_of(dest)?;
    let meta = fs::symlink_metadata(dest);
    let abs = match &meta {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(refused(
                dest,
                "it is a symbolic link; northbound replaces only a folder it wrote. \
                 Name the folder itself, or a new one",
            ))
        }
        Ok(_) => dest.canonicalize().map_err(io_err(dest))?,
        Err(_) => {
            let parent = parent_of(dest);
            canonical_or_self(&parent).join(name_of(dest)?)
        }
    };
    check_forbidden(dest, &abs, &opts.inputs)?;
    let Ok(m) = meta else { return Ok(()) };
    if !m.is_dir() {
        return Err(refused(
            dest,
            "it is a file, not a folder northbound wrote; northbound never replaces it. \
             Move it away or choose another --out",
        ));
    }
    match foreign_entries(dest)? {
        None => Err(refused(
            dest,
            format!(
                "it is a folder northbound did not write (it has no {MANIFEST}), and northbound replaces only \
                 its own output folders. Choose another --out, or move the folder away (--force does not apply)"
            ),
        )),
        Some(f) if f.is_empty() || opts.force => Ok(()),
        Some(f) => {
            let shown: Vec<&str> = f.iter().take(5).map(String::as_str).collect();
            let more = if f.len() > 5 {
                format!(" and {} more", f.len() - 5)
            } else {
                String::new()
            };
            Err(refused(
                dest,
                format!(
                    "this northbound folder also holds files northbound did not write: {}{more}. Move them \
                     away or choose another --out; --force replaces the folder and loses them",
                    shown.join(", ")
                ),
            ))
        }
    }
}

/// A destination checked and locked for this process, before any work.
pub struct Claim {
    dest: PathBuf,
    opts: Options,
    _lock: Lock,
}

impl Claim {
    /// The destination.
    pub fn path(&self) -> &Path {
        &self.dest
    }
}

/// Checks that an output folder may be written at `dest`, takes its lock
/// (failing at once if another process holds it) and removes what killed
/// runs left there. Call before any work.
pub fn claim(dest: &Path, opts: &Options) -> Result<Claim, OutputError> {
    check_folder(dest, opts)?;
    let parent = parent_of(dest);
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let name = name_of(dest)?;
    let lock = Lock::take(dest, parent.join(format!(".{name}.lock")))?;
    // Checked again under the lock: another process may have just finished.
    check_folder(dest, opts)?;
    clean_stale(&parent, &name, dest);
    Ok(Claim {
        dest: dest.to_path_buf(),
        opts: opts.clone(),
        _lock: lock,
    })
}

fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc_ = Path::new("/proc");
    if proc_.is_dir() {
        proc_.join(pid.to_string()).exists()
    } else {
        // No way to tell: the lock we hold says no live northbound writes here.
        false
    }
}

/// Removes `.NAME.partial-PID` and `.NAME.old-PID` left by dead processes;
/// an old folder whose replacement never arrived is put back.
fn clean_stale(parent: &Path, name: &str, dest: &Path) {
    let Ok(rd) = fs::read_dir(parent) else { return };
    let partial = format!(".{name}.partial-");
    let old = format!(".{name}.old-");
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let (is_old, pid) = if let Some(p) = n.strip_prefix(&partial) {
            (false, p)
        } else if let Some(p) = n.strip_prefix(&old) {
            (true, p)
        } else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        if alive(pid) {
            continue;
        }
        if is_old && fs::symlink_metadata(dest).is_err() {
            if fs::rename(e.path(), dest).is_ok() {
                eprintln!(
                    "note: {} was restored: a run killed while replacing it had moved it aside",
                    dest.display()
                );
            }
            continue;
        }
        remove_any(&e.path());
    }
}

// ---------------------------------------------------------------------------
// Manifests.

/// One file of a manifest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ManifestFile {
    /// Path relative to the folder, with `/`.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// `.northbound.json`: what northbound wrote in a folder.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// The version of northbound that wrote the folder.
    pub northbound: String,
    /// The command that wrote it.
    pub command: String,
    /// Every file it wrote.
    pub files: Vec<ManifestFile>,
}

/// The manifest of `dir`, if it has a valid one.
pub fn read_manifest(dir: &Path) -> Option<Manifest> {
    let text = fs::read_to_string(dir.join(MANIFEST)).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), OutputError> {
    let path = dir.join(MANIFEST);
    let tmp = dir.join(format!("{MANIFEST}.partial-{}", std::process::id()));
    let text = serde_json::to_string_pretty(m).map_err(|e| io_err(&path)(io::Error::other(e)))? + "\n";
    fs::write(&tmp, text).map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))
}

// ---------------------------------------------------------------------------
// Output folders.

/// An output folder being written: files go to a temporary sibling folder
/// (`.NAME.partial-PID`), which replaces the destination in
/// [`OutDir::commit`].
pub struct OutDir {
    dest: PathBuf,
    tmp: PathBuf,
    hashes: BTreeMap<String, String>,
    /// `None` for a folder nested in another one being written.
    claim: Option<Claim>,
}

impl OutDir {
    /// Starts writing the output for `dest`: a folder inside another
    /// `OutDir` still being written (a replicate's), or a destination
    /// checked and locked as [`claim`] does, without `--force`.
    pub fn create(dest: &Path) -> Result<OutDir, OutputError> {
        if inside_live_temp(dest) {
            let tmp = parent_of(dest).join(format!(".{}.partial-{}", name_of(dest)?, std::process::id()));
            fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
            return Ok(OutDir {
                dest: dest.to_path_buf(),
                tmp,
                hashes: BTreeMap::new(),
                claim: None,
            });
        }
        let opts = Options {
            command: "library".into(),
            ..Options::default()
        };
        OutDir::start(claim(dest, &opts)?)
    }

    /// Starts writing a claimed destination.
    pub fn start(claim: Claim) -> Result<OutDir, OutputError> {
        let name = name_of(&claim.dest)?;
        let tmp = parent_of(&claim.dest).join(format!(".{name}.partial-{}", std::process::id()));
        if fs::symlink_metadata(&tmp).is_ok() {
            remove_any(&tmp);
        }
        fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
        let canonical = canonical_or_self(&tmp);
        register_temp(&canonical);
        pause_at("writing");
        Ok(OutDir {
            dest: claim.dest.clone(),
            tmp: canonical,
            hashes: BTreeMap::new(),
            claim: Some(claim),
        })
    }

    /// A new file in the folder, under a temporary name until finished.
    pub fn file(&self, name: &str) -> Result<TableFile, OutputError> {
        let path = self.tmp.join(format!("{name}.tmp"));
        if let Some(d) = path.parent() {
            fs::create_dir_all(d).map_err(io_err(d))?;
        }
        let f = File::create(&path).map_err(io_err(&path))?;
        Ok(TableFile {
            name: name.to_string(),
            path,
            w: BufWriter::with_capacity(1 << 20, f),
            hash: Sha256::new(),
        })
    }

    /// Finishes a file: flushes it, records its SHA-256 and gives it its name.
    pub fn finish(&mut self, mut f: TableFile) -> Result<(), OutputError> {
        f.w.flush().map_err(io_err(&f.path))?;
        let final_path = self.tmp.join(&f.name);
        fs::rename(&f.path, &final_path).map_err(io_err(&final_path))?;
        self.hashes.insert(f.name.clone(), hex(&f.hash.finalize()));
        Ok(())
    }

    /// SHA-256 of each finished file.
    pub fn hashes(&self) -> &BTreeMap<String, String> {
        &self.hashes
    }

    /// Where files are being written.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    /// Writes the manifest and replaces the destination with the finished
    /// folder: the old folder is renamed aside, the new one renamed in, then
    /// the old one deleted. Returns where the output is.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let Some(claim) = self.claim.take() else {
            fs::rename(&self.tmp, &self.dest).map_err(io_err(&self.dest))?;
            return Ok(self.dest.clone());
        };
        let mut entries = Vec::new();
        walk(&self.tmp, "", &mut entries).map_err(io_err(&self.tmp))?;
        let mut files = Vec::new();
        for (rel, e) in entries {
            if let Entry::File(bytes) = e {
                if rel == MANIFEST {
                    continue;
                }
                let sha256 = match self.hashes.get(&rel) {
                    Some(h) => h.clone(),
                    None => sha256_of(&self.tmp.join(&rel)).map_err(io_err(&self.tmp.join(&rel)))?,
                };
                files.push(ManifestFile {
                    path: rel,
                    bytes,
                    sha256,
                });
            }
        }
        write_manifest(
            &self.tmp,
            &Manifest {
                northbound: env!("CARGO_PKG_VERSION").into(),
                command: claim.opts.command.clone(),
                files,
            },
        )?;
        let dest = claim.dest.clone();
        let parent = parent_of(&dest);
        let name = name_of(&dest)?;
        let aside = parent.join(format!(".{name}.old-{}", std::process::id()));
        let guard = live();
        // The user may have put files there while the run worked.
        if let Err(e) = check_folder(&dest, &claim.opts) {
            let mut k = 2;
            let kept = loop {
                let p = parent.join(format!("{name}-{k}"));
                if fs::symlink_metadata(&p).is_err() {
                    break p;
                }
                k += 1;
            };
            fs::rename(&self.tmp, &kept).map_err(io_err(&kept))?;
            drop(guard);
            unregister_temp(&self.tmp);
            eprintln!("warning: {e}\nwarning: the results are in {} instead", kept.display());
            return Ok(kept);
        }
        let had_old = fs::symlink_metadata(&dest).is_ok();
        if had_old {
            fs::rename(&dest, &aside).map_err(io_err(&dest))?;
            pause_at("aside");
        }
        if let Err(e) = fs::rename(&self.tmp, &dest) {
            if had_old {
                let _ = fs::rename(&aside, &dest);
            }
            return Err(io_err(&dest)(e));
        }
        let tmp = self.tmp.clone();
        drop(guard);
        unregister_temp(&tmp);
        if had_old {
            register_temp(&aside);
            pause_at("swapped");
            remove_any(&aside);
            unregister_temp(&aside);
        }
        drop(claim);
        Ok(dest)
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        // An abandoned (uncommitted) folder is removed; a committed one has
        // been renamed away already.
        if fs::symlink_metadata(&self.tmp).is_ok() {
            remove_any(&self.tmp);
        }
        unregister_temp(&self.tmp);
    }
}

fn inside_live_temp(dest: &Path) -> bool {
    let parent = canonical_or_self(&parent_of(dest));
    live().temps.iter().any(|t| parent.starts_with(t))
}

/// A file being written, hashed as it goes.
pub struct TableFile {
    name: String,
    path: PathBuf,
    w: BufWriter<File>,
    hash: Sha256,
}

impl Write for TableFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.w.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

// ---------------------------------------------------------------------------
// Single files.

/// Writes a single file northbound owns (a calibration result, an imported
/// scenario): replaced only if absent or if its first line starts with
/// `marker` (the first line northbound writes in such files); written
/// aside and renamed over.
pub fn write_file(dest: &Path, marker: &str, text: &[u8], opts: &Options) -> Result<PathBuf, OutputError> {
    claim_file(dest, marker, opts)?.write_file(text)
}

/// Checks that a single file may be written at `dest` (see [`write_file`])
/// and takes its lock, for a command that works long before it writes
/// (`calibrate`, whose study store sits beside the file: `.NAME.study/`).
pub fn claim_file(dest: &Path, marker: &str, opts: &Options) -> Result<Claim, OutputError> {
    let name = name_of(dest)?;
    check_file(dest, marker, opts)?;
    let parent = parent_of(dest);
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let lock = Lock::take(dest, parent.join(format!(".{name}.lock")))?;
    // Checked again under the lock: another process may have just written it.
    check_file(dest, marker, opts)?;
    clean_stale(&parent, &name, dest);
    Ok(Claim {
        dest: dest.to_path_buf(),
        opts: opts.clone(),
        _lock: lock,
    })
}

impl Claim {
    /// Writes the claimed single file (from [`claim_file`]): aside, then
    /// renamed over. The lock stays held until the claim is dropped, so
    /// that the store beside the file is removed before another run looks.
    pub fn write_file(&self, text: &[u8]) -> Result<PathBuf, OutputError> {
        let dest = &self.dest;
        let name = name_of(dest)?;
        let tmp = parent_of(dest).join(format!(".{name}.partial-{}", std::process::id()));
        register_temp(&tmp);
        let res = fs::write(&tmp, text)
            .and_then(|_| fs::rename(&tmp, dest))
            .map_err(io_err(dest));
        if res.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        unregister_temp(&tmp);
        res.map(|_| dest.to_path_buf())
    }
}

/// Checks that a single file may be written at `dest` (see [`write_file`]).
pub fn check_file(dest: &Path, marker: &str, opts: &Options) -> Result<(), OutputError> {
    let abs = match fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(refused(
                dest,
                "it is a symbolic link; name the file itself, or a new one",
            ))
        }
        Ok(m) if m.is_dir() => {
            return Err(refused(
                dest,
                "it is a folder; name a file inside it, e.g. DIR/result.toml",
            ))
        }
        Ok(_) => canonical_or_self(dest),
        Err(_) => return Ok(()),
    };
    for i in &opts.inputs {
        if canonical_or_self(i) == abs {
            return Err(refused(dest, "it is an input of this command; name a new file"));
        }
    }
    let mut first = String::new();
    if let Ok(f) = File::open(dest) {
        let mut buf = Vec::new();
        let _ = f.take(4096).read_to_end(&mut buf);
        first = String::from_utf8_lossy(&buf).lines().next().unwrap_or("").to_string();
    }
    if first.starts_with(marker) {
        Ok(())
    } else {
        Err(refused(
            dest,
            format!(
                "the file exists and northbound did not write it (its first line is not `{marker}…`); \
                 northbound never replaces it. Move it away or name a new file"
            ),
        ))
    }
}

/// Writes `name` into `dir` (`report DIR`): replaced only if absent, or if
/// the manifest of the output folder holding `dir` lists it unchanged;
/// the manifest is then updated.
pub fn replace_in_folder(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, OutputError> {
    let dest = dir.join(name);
    let cdir = dir.canonicalize().map_err(io_err(dir))?;
    // The output folder this one belongs to: itself or the nearest ancestor
    // with a manifest (a replicate's folder inside a run's).
    let root = cdir
        .ancestors()
        .find(|a| a.join(MANIFEST).is_file())
        .map(Path::to_path_buf);
    let rel = root.as_ref().and_then(|r| {
        cdir.join(name)
            .strip_prefix(r)
            .ok()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
    });
    let _lock = match &root {
        Some(r) if r.parent().is_some() => {
            let n = name_of(r)?;
            Some(Lock::take(r, parent_of(r).join(format!(".{n}.lock")))?)
        }
        _ => None,
    };
    let manifest = root.as_ref().and_then(|r| read_manifest(r));
    match fs::symlink_metadata(&dest) {
        Err(_) => {}
        Ok(m) if !m.is_file() => return Err(refused(&dest, "it is not a regular file; move it away")),
        Ok(m) => {
            let listed = manifest
                .as_ref()
                .zip(rel.as_ref())
                .and_then(|(mf, rel)| mf.files.iter().find(|f| &f.path == rel).cloned());
            let ok = listed
                .is_some_and(|f| f.bytes == m.len() && sha256_of(&dest).ok().as_deref() == Some(f.sha256.as_str()));
            if !ok {
                return Err(refused(
                    &dest,
                    "northbound did not write it, or it was changed since (it does not match the folder's \
                     manifest); northbound never replaces it. Move it away and run the command again",
                ));
            }
        }
    }
    let tmp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    register_temp(&canonical_or_self(dir).join(format!(".{name}.partial-{}", std::process::id())));
    let res = fs::write(&tmp, bytes)
        .and_then(|_| fs::rename(&tmp, &dest))
        .map_err(io_err(&dest));
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    unregister_temp(&canonical_or_self(dir).join(format!(".{name}.partial-{}", std::process::id())));
    res?;
    if let (Some(r), Some(rel), Some(mut m)) = (root, rel, manifest) {
        let entry = ManifestFile {
            path: rel.clone(),
            bytes: bytes.len() as u64,
            sha256: hex(&Sha256::digest(bytes)),
        };
        match m.files.iter_mut().find(|f| f.path == rel) {
            Some(f) => *f = entry,
            None => {
                m.files.push(entry);
                m.files.sort_by(|a, b| a.path.cmp(&b.path));
            }
        }
        write_manifest(&r, &m)?;
    }
    Ok(dest)
}

/// A name that becomes part of a path (a default output folder): ASCII
/// letters, digits, `_`, `-` and `.`, starting with a letter or digit, at
/// most 100 characters.
pub fn safe_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

// ---------------------------------------------------------------------------
// Resumable studies' stores.

/// The marker a study store's `study.json` carries: what tells a store
/// northbound made from any other folder of the same name.
const STORE_MARK: &str = "northbound-study-store";

/// The store of a study that has not finished: `.NAME.study/` beside the
/// destination, holding `study.json` (the command's fingerprint) and
/// `rows.jsonl` (one line per finished point, appended and flushed as
/// points finish). It is not a temporary of this process: an interrupted
/// study leaves it in place (a signal removes only temporaries), so that the
/// same command resumes; it is removed once the finished folder is in
/// place. Only the process holding the destination's lock writes it.
pub struct Store {
    dir: PathBuf,
    rows: File,
}

/// Where the store of a study writing to `dest` lives.
pub fn store_path(dest: &Path) -> Result<PathBuf, OutputError> {
    Ok(parent_of(dest).join(format!(".{}.study", name_of(dest)?)))
}

/// What a store holds: its fingerprint and its complete lines (a line cut
/// short by a kill is not one). `None` if there is no store.
pub fn read_store(dest: &Path) -> Result<Option<(serde_json::Value, Vec<String>)>, OutputError> {
    let dir = store_path(dest)?;
    if fs::symlink_metadata(&dir).is_err() {
        return Ok(None);
    }
    let meta = dir.join("study.json");
    let foreign = || {
        refused(
            &dir,
            "it is not the store of a northbound study (no study.json of ours); move it away or choose another --out",
        )
    };
    if !fs::symlink_metadata(&dir).map(|m| m.is_dir()).unwrap_or(false) {
        return Err(foreign());
    }
    let text = fs::read_to_string(&meta).map_err(|_| foreign())?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|_| foreign())?;
    if v.get("store") != Some(&serde_json::Value::from(STORE_MARK)) {
        return Err(foreign());
    }
    let rows = dir.join("rows.jsonl");
    let bytes = match fs::read(&rows) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err(&rows)(e)),
    };
    let complete = bytes.iter().rposition(|&b| b == b'\n').map(|i| i + 1).unwrap_or(0);
    let lines = String::from_utf8_lossy(&bytes[..complete])
        .lines()
        .map(str::to_string)
        .collect();
    Ok(Some((v["fingerprint"].clone(), lines)))
}

impl Claim {
    /// Opens the study store of this destination for `fingerprint`: a new
    /// one if there is none (or `fresh`, which removes ours first), ours
    /// with the same fingerprint to resume, and a refusal (exit 2) for a
    /// store of another command or a folder that is not a store. Returns
    /// the store and the lines already in it.
    pub fn study_store(
        &self,
        fingerprint: &serde_json::Value,
        fresh: bool,
    ) -> Result<(Store, Vec<String>), OutputError> {
        let dir = store_path(&self.dest)?;
        let mut lines = Vec::new();
        if let Some((old, kept)) = read_store(&self.dest)? {
            if fresh {
                remove_any(&dir);
            } else if &old != fingerprint {
                return Err(refused(
                    &self.dest,
                    format!(
                        "{} holds an unfinished study of another command ({}); rerun that command to finish it, or \
                         add --force to start this one afresh",
                        dir.display(),
                        differences(&old, fingerprint)
                    ),
                ));
            } else {
                lines = kept;
            }
        }
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let meta = dir.join("study.json");
        if fs::symlink_metadata(&meta).is_err() {
            let v = serde_json::json!({ "store": STORE_MARK, "fingerprint": fingerprint });
            let text = serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
            let tmp = dir.join("study.json.tmp");
            fs::write(&tmp, text).map_err(io_err(&tmp))?;
            fs::rename(&tmp, &meta).map_err(io_err(&meta))?;
        }
        // Cut a line a kill left short, so that the next one starts clean.
        let rows_path = dir.join("rows.jsonl");
        let mut text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        if fs::symlink_metadata(&rows_path)
            .map(|m| m.len() as usize != text.len())
            .unwrap_or(true)
        {
            let tmp = dir.join("rows.jsonl.tmp");
            fs::write(&tmp, std::mem::take(&mut text)).map_err(io_err(&tmp))?;
            fs::rename(&tmp, &rows_path).map_err(io_err(&rows_path))?;
        }
        let rows = OpenOptions::new()
            .append(true)
            .open(&rows_path)
            .map_err(io_err(&rows_path))?;
        live().stores.push(dir.clone());
        Ok((Store { dir, rows }, lines))
    }
}

/// The top-level keys in which two fingerprints differ, for the message.
fn differences(a: &serde_json::Value, b: &serde_json::Value) -> String {
    let keys: Vec<&str> = match (a.as_object(), b.as_object()) {
        (Some(x), Some(y)) => x
            .keys()
            .chain(y.keys())
            .filter(|k| x.get(*k) != y.get(*k))
            .map(String::as_str)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    if keys.is_empty() {
        "a different fingerprint".into()
    } else {
        format!("differs in {}", keys.join(", "))
    }
}

impl Store {
    /// Appends one line (no newline in it) and makes it durable before
    /// returning: a point that returned is never run again.
    pub fn append(&mut self, line: &str) -> Result<(), OutputError> {
        let path = self.dir.join("rows.jsonl");
        self.rows
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|_| self.rows.sync_data())
            .map_err(io_err(&path))
    }

    /// Removes the store: call once the finished folder is in place.
    pub fn remove(self) {
        live().stores.retain(|d| d != &self.dir);
        remove_any(&self.dir);
    }
}

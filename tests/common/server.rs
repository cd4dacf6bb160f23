//! The real `gapmap` binary as a test server: started with extra arguments
//! and environment, its URL read from the line it prints when it is ready,
//! and killed when the handle is dropped.
//!
//! Every server gets its own register state directory (a fresh temporary
//! one, `GAPMAP_STATE_DIR`) unless the caller names one (`--state-dir`,
//! `--register` or its own `GAPMAP_STATE_DIR`), so that no test writes a
//! `./state` into the working copy and no two servers share a register by
//! accident.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a server may take to load the atlas and print its URL.
const START_LIMIT: Duration = Duration::from_mins(10);

/// Where the server's standard error goes.
#[derive(Debug, Clone)]
pub enum Stderr {
    /// To the test's own standard error (the default).
    Inherit,
    /// Into memory, line by line ([`Server::stderr_lines`]).
    Capture,
    /// Into a file (created or truncated).
    File(PathBuf),
}

/// A running `gapmap serve`; killed (and its temporary state removed) when
/// dropped.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:PORT/`, as the server printed it.
    pub url: String,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Standard error lines so far, with [`Stderr::Capture`].
    pub stderr: Arc<Mutex<Vec<String>>>,
    /// Standard output lines so far (the "serving" line among them).
    pub stdout: Arc<Mutex<Vec<String>>>,
    /// The register state directory the server was given.
    pub state_dir: Option<PathBuf>,
    /// The temporary directory it owns (its state, or one given with
    /// [`Launch::owning`]), removed on drop.
    temp_state: Option<Arc<tempfile::TempDir>>,
    /// See [`Server::kill_at_exit`].
    watchdog: Option<(Child, ChildStdin)>,
}

/// A server that ended before it printed its URL.
#[derive(Debug)]
pub struct Exited {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its standard error, with [`Stderr::Capture`] (else empty).
    pub stderr: String,
}

/// Builds the command line of a test server.
#[derive(Debug, Clone)]
pub struct Launch {
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    env_remove: Vec<OsString>,
    stderr: Stderr,
    owned: Option<Arc<tempfile::TempDir>>,
}

impl Default for Launch {
    fn default() -> Self {
        Self::new()
    }
}

impl Launch {
    /// `gapmap serve --bind 127.0.0.1:0 --quiet` on the real data
    /// (`GAPMAP_DATA_DIR`), logging warnings and errors to the test's stderr.
    pub fn new() -> Self {
        Self {
            args: Vec::new(),
            env: vec![
                ("GAPMAP_DATA_DIR".into(), super::data_dir().into_os_string()),
                ("GAPMAP_LOG".into(), "warn".into()),
            ],
            env_remove: Vec::new(),
            stderr: Stderr::Inherit,
            owned: None,
        }
    }

    /// Adds arguments after `serve --bind 127.0.0.1:0 --quiet`.
    #[must_use]
    pub fn args<S: AsRef<OsStr>>(mut self, args: &[S]) -> Self {
        self.args
            .extend(args.iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Sets an environment variable (replacing an earlier setting).
    #[must_use]
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        let key = key.as_ref().to_os_string();
        self.env.retain(|(k, _)| *k != key);
        self.env_remove.retain(|k| *k != key);
        self.env.push((key, value.as_ref().to_os_string()));
        self
    }

    /// Removes an environment variable the test process may have.
    #[must_use]
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        let key = key.as_ref().to_os_string();
        self.env.retain(|(k, _)| *k != key);
        self.env_remove.push(key);
        self
    }

    /// Where standard error goes.
    #[must_use]
    pub fn stderr(mut self, stderr: Stderr) -> Self {
        self.stderr = stderr;
        self
    }

    /// Hands the server a temporary directory to remove when it ends (for
    /// one holding its log or a state directory the arguments name).
    #[must_use]
    pub fn owning(mut self, dir: tempfile::TempDir) -> Self {
        self.owned = Some(Arc::new(dir));
        self
    }

    /// Starts the server and waits for its URL.
    ///
    /// # Panics
    /// When it cannot be started, exits first, or prints no URL within ten
    /// minutes.
    pub fn start(self) -> Server {
        match self.launch(START_LIMIT) {
            Ok(server) => server,
            Err(exited) => panic!(
                "the server exited ({}) before serving: {}",
                exited.status, exited.stderr
            ),
        }
    }

    /// Starts the server and waits (at most `limit`) until it either prints
    /// its URL (`Ok`) or exits (`Err`, with its stderr when captured).
    ///
    /// # Panics
    /// When the binary cannot be started, or neither happens within `limit`.
    pub fn launch(self, limit: Duration) -> Result<Server, Exited> {
        let names_state = self.args.iter().any(|a| {
            let a = a.to_string_lossy();
            a.starts_with("--state-dir") || a.starts_with("--register")
        }) || self.env.iter().any(|(k, _)| k == "GAPMAP_STATE_DIR");
        let mut command = Command::new(env!("CARGO_BIN_EXE_gapmap"));
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--quiet"])
            .args(&self.args)
            .env_remove("GAPMAP_STATE_DIR")
            .env_remove("GAPMAP_REGISTER");
        for k in &self.env_remove {
            command.env_remove(k);
        }
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let made = (!names_state).then(|| tempfile::tempdir().expect("a temporary state dir"));
        if let Some(dir) = &made {
            command.env("GAPMAP_STATE_DIR", dir.path());
        }
        let state_dir = made.as_ref().map(|d| d.path().to_owned()).or_else(|| {
            let pos = self.args.iter().position(|a| a == "--state-dir")?;
            self.args.get(pos + 1).map(PathBuf::from)
        });
        let temp_state = made.map(Arc::new).or(self.owned.clone());
        command.stdout(Stdio::piped()).stdin(Stdio::null());
        match &self.stderr {
            Stderr::Inherit => command.stderr(Stdio::inherit()),
            Stderr::Capture => command.stderr(Stdio::piped()),
            Stderr::File(path) => command.stderr(Stdio::from(
                std::fs::File::create(path).expect("create the log file"),
            )),
        };
        let mut child = command.spawn().expect("start the gapmap binary");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stderr_reader: Option<JoinHandle<()>> = child.stderr.take().map(|pipe| {
            let stderr = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    stderr.lock().unwrap().push(line);
                }
            })
        });
        let stdout_pipe = child.stdout.take().expect("piped stdout");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        {
            let stdout = Arc::clone(&stdout);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout_pipe).lines().map_while(Result::ok) {
                    if line.starts_with("GapMap serving ") {
                        let _ = tx.send(line.clone());
                    }
                    stdout.lock().unwrap().push(line);
                }
            });
        }
        // The guard exists before waiting, so a timeout still kills the child.
        let mut server = Server {
            child,
            url: String::new(),
            addr: "127.0.0.1:1".parse().unwrap(),
            stderr,
            stdout,
            state_dir,
            temp_state,
            watchdog: None,
        };
        let deadline = Instant::now() + limit;
        let line = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => break line,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // Standard output closed: the process is ending.
                    let status = server.child.wait().expect("wait for the server");
                    return Err(server.exited(status, stderr_reader));
                }
            }
            if let Some(status) = server.child.try_wait().expect("poll the server") {
                return Err(server.exited(status, stderr_reader));
            }
            assert!(
                Instant::now() < deadline,
                "the server printed no URL within {limit:?}"
            );
        };
        let url = line
            .rsplit(" at ")
            .next()
            .expect("URL after ' at '")
            .trim()
            .to_owned();
        server.addr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("no address in {line:?}: {e}"));
        server.url = url;
        Ok(server)
    }
}

impl Server {
    /// A server with `args` after `serve --bind 127.0.0.1:0 --quiet`, e.g.
    /// `Server::start(&["--state-dir", dir])`, the rest as [`Launch::new`].
    pub fn start<S: AsRef<OsStr>>(args: &[S]) -> Self {
        Launch::new().args(args).start()
    }

    fn exited(&mut self, status: ExitStatus, reader: Option<JoinHandle<()>>) -> Exited {
        if let Some(r) = reader {
            let _ = r.join();
        }
        Exited {
            status,
            stderr: self.stderr_lines().join("\n"),
        }
    }

    /// The captured standard error lines so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Makes sure the server ends with the test process even if this handle
    /// is never dropped (one kept in a `static`, shared by tests): a small
    /// shell waits for its standard input, a pipe this process holds, to
    /// close, and then kills the server by its id and removes its temporary
    /// state directory.
    pub fn kill_at_exit(&mut self) {
        let dir = self
            .temp_state
            .as_ref()
            .map(|d| d.path().to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut child = Command::new("sh")
            .args([
                "-c",
                r#"cat >/dev/null; kill -KILL "$1" 2>/dev/null; sleep 0.5; if [ -n "$2" ]; then rm -rf -- "$2"; fi"#,
                "gapmap-test-watchdog",
            ])
            .arg(self.child.id().to_string())
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the watchdog shell");
        let stdin = child.stdin.take().expect("piped stdin");
        self.watchdog = Some((child, stdin));
    }

    /// Stops the server as an operator would (SIGTERM) and waits for it to
    /// exit (at most 30 s, then it is killed). Its temporary state directory
    /// goes with the handle.
    pub fn stop(mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return self.child.wait().expect("wait for the server");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The state directory (temporary or given).
    pub fn state_path(&self) -> &Path {
        self.state_dir
            .as_deref()
            .expect("the server has a state directory")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some((mut watchdog, stdin)) = self.watchdog.take() {
            // The server is gone: end the watchdog itself rather than let it
            // kill an id that may be reused.
            let _ = watchdog.kill();
            let _ = watchdog.wait();
            drop(stdin);
        }
    }
}

/// Runs `gapmap token add --name NAME --role ROLE` with `store_args`
/// (`--state-dir DIR` or `--register ...`) and returns the token it prints
/// (standard output is the token and nothing else).
///
/// # Panics
/// When the command fails.
pub fn make_token<S: AsRef<OsStr>>(store_args: &[S], name: &str, role: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gapmap"))
        .args(["token", "add", "--name", name, "--role", role])
        .args(store_args)
        .env_remove("GAPMAP_STATE_DIR")
        .env_remove("GAPMAP_REGISTER")
        .output()
        .expect("run gapmap token add");
    assert!(
        out.status.success(),
        "gapmap token add --name {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).expect("UTF-8 token");
    let token = token.trim_end_matches('\n').to_owned();
    assert!(
        token.starts_with("gm_") && !token.contains(char::is_whitespace),
        "not a token: {token:?}"
    );
    token
}

/// Runs `gapmap token revoke NAME` with `store_args`; whether it succeeded.
pub fn revoke_token<S: AsRef<OsStr>>(store_args: &[S], name: &str) -> bool {
    Command::new(env!("CARGO_BIN_EXE_gapmap"))
        .args(["token", "revoke", name])
        .args(store_args)
        .env_remove("GAPMAP_STATE_DIR")
        .env_remove("GAPMAP_REGISTER")
        .output()
        .expect("run gapmap token revoke")
        .status
        .success()
}

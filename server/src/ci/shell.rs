//! The `shell` connector: runs a local command with the job's parameters as environment
//! variables. Each run lives in a folder named by its key (`<data dir>/runs/<key>/`) holding its
//! log, its process id and, once it ends, its exit status; the command runs in a process group
//! of its own, so it outlives a crash of the portal and is found again by its key.

use super::{tail, CiConnector, CiError, RunRef, RunState, RunStatus, StartJob};
use std::path::{Path, PathBuf};
use std::process::Stdio;

pub struct Shell {
    runs: PathBuf,
    data_dir: PathBuf,
}

const LOG_TAIL_BYTES: usize = 4096;

/// Runs the job's command, then writes its exit status atomically.
const WRAPPER: &str = r#"sh -c "$RUNWAY_COMMAND"; code=$?; echo "$code" > "$RUNWAY_RUN_DIR/exit.tmp" && mv "$RUNWAY_RUN_DIR/exit.tmp" "$RUNWAY_RUN_DIR/exit""#;

impl Shell {
    pub fn new(data_dir: &Path) -> Self {
        let data_dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        Shell {
            runs: data_dir.join("runs"),
            data_dir,
        }
    }

    fn dir(&self, key: &str) -> Result<PathBuf, CiError> {
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(CiError::Config(format!("not a valid run key: {key}")));
        }
        Ok(self.runs.join(key))
    }

    fn run_ref(&self, key: &str) -> RunRef {
        RunRef {
            id: key.to_owned(),
            url: None,
        }
    }
}

fn io(what: &str, e: &std::io::Error) -> CiError {
    CiError::Transient(format!("{what}: {e}"))
}

fn alive(pid: u32) -> bool {
    // A reaped or never-started process has no /proc entry; a zombie says so in its status.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// The process group of `pid`, from `/proc/<pid>/stat` (the third field after the name).
fn group_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

/// Sends SIGTERM to the process group `pid` leads, and only when it does lead one of its own
/// (never the portal's group, never anything else).
fn stop_group(pid: u32) {
    let own_group = group_of(std::process::id());
    let Some(group) = i32::try_from(pid)
        .ok()
        .filter(|p| *p > 1)
        .filter(|_| group_of(pid) == Some(pid) && own_group != Some(pid))
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    if let Err(e) = rustix::process::kill_process_group(group, rustix::process::Signal::TERM) {
        tracing::warn!(pid, error = %e, "cannot stop the run's processes");
    }
}

#[async_trait::async_trait]
impl CiConnector for Shell {
    async fn start(&self, job: &StartJob<'_>) -> Result<RunRef, CiError> {
        let dir = self.dir(job.key)?;
        std::fs::create_dir_all(&self.runs).map_err(|e| io("cannot create the runs folder", &e))?;
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            // Started before (a retry after a crash): the same run, never a second one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Ok(self.run_ref(job.key))
            }
            Err(e) => return Err(io("cannot create the run folder", &e)),
        }
        let log =
            std::fs::File::create(dir.join("log")).map_err(|e| io("cannot create the log", &e))?;
        let err_log = log
            .try_clone()
            .map_err(|e| io("cannot share the log", &e))?;
        let mut command = std::process::Command::new("sh");
        command
            .arg("-c")
            .arg(WRAPPER)
            .envs(job.params)
            .env("RUNWAY_COMMAND", job.target)
            .env("RUNWAY_RUN_DIR", &dir)
            .env("RUNWAY_RUN_KEY", job.key)
            .env("RUNWAY_DATA_DIR", &self.data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err_log));
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        let mut child = command
            .spawn()
            .map_err(|e| CiError::Config(format!("cannot run {}: {e}", job.target)))?;
        // Written whole or not at all, so a reader never sees half of it.
        std::fs::write(dir.join("pid.tmp"), child.id().to_string())
            .and_then(|()| std::fs::rename(dir.join("pid.tmp"), dir.join("pid")))
            .map_err(|e| io("cannot record the process id", &e))?;
        // Reap it when it ends, so it never lingers as a zombie.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        Ok(self.run_ref(job.key))
    }

    async fn status(&self, run: &str) -> Result<RunStatus, CiError> {
        let dir = self.dir(run)?;
        let log = std::fs::read(dir.join("log")).unwrap_or_default();
        let log_tail = tail(&log, LOG_TAIL_BYTES);
        let exit = std::fs::read_to_string(dir.join("exit")).ok();
        let cancelled = dir.join("cancelled").exists();
        let pid: Option<u32> = std::fs::read_to_string(dir.join("pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok());
        let (state, message) = match (exit.as_deref().map(str::trim), cancelled) {
            (_, true) => (
                RunState::Cancelled,
                Some("cancelled from the portal".to_owned()),
            ),
            (Some("0"), _) => (RunState::Succeeded, None),
            (Some(code), _) => (
                RunState::Failed,
                Some(format!("the command exited with status {code}")),
            ),
            (None, _) if pid.is_some_and(alive) => (RunState::Running, None),
            (None, _) if pid.is_none() && dir.exists() => (RunState::Queued, None),
            (None, _) if !dir.exists() => {
                return Err(CiError::Config(format!("there is no run {run}")));
            }
            (None, _) => (
                RunState::Failed,
                Some("the command stopped without an exit status (killed?)".to_owned()),
            ),
        };
        Ok(RunStatus {
            state,
            url: None,
            log_tail,
            message,
        })
    }

    async fn cancel(&self, run: &str) -> Result<(), CiError> {
        let dir = self.dir(run)?;
        std::fs::write(dir.join("cancelled"), b"").map_err(|e| io("cannot mark the run", &e))?;
        if let Some(pid) = std::fs::read_to_string(dir.join("pid"))
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .filter(|p| alive(*p))
        {
            // The whole process group: the wrapper and everything the command started.
            stop_group(pid);
        }
        Ok(())
    }

    async fn find(&self, key: &str, _target: &str) -> Result<Option<RunRef>, CiError> {
        Ok(self.dir(key)?.exists().then(|| self.run_ref(key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    async fn until_final(shell: &Shell, key: &str) -> RunStatus {
        for _ in 0..200 {
            let s = shell.status(key).await.expect("status");
            if s.state.is_final() {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{key} did not finish");
    }

    #[tokio::test]
    async fn runs_with_parameters_and_reports_success_failure_and_cancel() {
        let data = tempfile::tempdir().expect("dir");
        let shell = Shell::new(data.path());
        let params: BTreeMap<String, String> =
            [("RUNWAY_VERSION".to_owned(), "2.4.0".to_owned())].into();
        let ok = StartJob {
            key: "r1-deploy-1",
            target: "echo deploying $RUNWAY_VERSION",
            params: &params,
        };
        shell.start(&ok).await.expect("start");
        // Starting again with the same key is the same run.
        shell.start(&ok).await.expect("again");
        let s = until_final(&shell, "r1-deploy-1").await;
        assert_eq!(s.state, RunState::Succeeded);
        assert_eq!(s.log_tail, "deploying 2.4.0\n");
        assert_eq!(
            shell.find("r1-deploy-1", "").await.expect("find"),
            Some(RunRef {
                id: "r1-deploy-1".into(),
                url: None
            })
        );
        assert_eq!(shell.find("r2-deploy-1", "").await.expect("find"), None);

        let bad = StartJob {
            key: "r2-deploy-1",
            target: "echo nope >&2; exit 3",
            params: &params,
        };
        shell.start(&bad).await.expect("start");
        let s = until_final(&shell, "r2-deploy-1").await;
        assert_eq!((s.state, s.log_tail.as_str()), (RunState::Failed, "nope\n"));
        assert_eq!(
            s.message.as_deref(),
            Some("the command exited with status 3")
        );

        let slow = StartJob {
            key: "r3-deploy-1",
            target: "sleep 30",
            params: &params,
        };
        shell.start(&slow).await.expect("start");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            shell.status("r3-deploy-1").await.expect("status").state,
            RunState::Running
        );
        shell.cancel("r3-deploy-1").await.expect("cancel");
        assert_eq!(
            until_final(&shell, "r3-deploy-1").await.state,
            RunState::Cancelled
        );
    }

    #[tokio::test]
    async fn a_key_with_a_path_in_it_is_refused() {
        let data = tempfile::tempdir().expect("dir");
        let shell = Shell::new(data.path());
        let params = BTreeMap::new();
        let job = StartJob {
            key: "../x",
            target: "true",
            params: &params,
        };
        assert!(matches!(shell.start(&job).await, Err(CiError::Config(_))));
    }
}

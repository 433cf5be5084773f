//! Running a configured function as a subprocess: payload on stdin then EOF, one JSON
//! document on stdout, exit status 0 for success, the last 1 KiB of stderr on failure.
//!
//! The environment is cleared, then `PATH` and the function's `env:` entries are set. The
//! process leads its own process group; on timeout (or when the call is dropped) the whole
//! group is killed with SIGKILL, and on timeout the child is reaped before returning.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use bytes::Bytes;
use stratus::limits::MAX_COMPUTE_PAYLOAD_BYTES;
use stratus::{Error, ErrorKind, Result};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use super::options::FunctionSpec;

/// How much of stderr a failure message keeps.
const STDERR_TAIL_BYTES: usize = 1024;
/// `PATH` for the function when this process has none.
const FALLBACK_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Runs `spec` for `function` with `payload`, giving up after `timeout`.
pub async fn run(
    function: &str,
    spec: &FunctionSpec,
    payload: Bytes,
    timeout: Duration,
) -> Result<Bytes> {
    let mut child = spawn(function, spec)?;
    let group = GroupKiller::new(&child);
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let work = async {
        let write = async {
            if let Some(mut stdin) = stdin {
                // A function that exits without reading its input is not an error here.
                let _ = stdin.write_all(&payload).await;
                let _ = stdin.shutdown().await;
            }
        };
        let (_, out, err) = tokio::join!(
            write,
            read_capped(stdout, MAX_COMPUTE_PAYLOAD_BYTES),
            read_tail(stderr, STDERR_TAIL_BYTES)
        );
        let status = child.wait().await;
        (out, err, status)
    };
    let outcome = tokio::time::timeout(timeout, work).await;
    match outcome {
        Ok((out, err, status)) => {
            group.disarm();
            let status =
                status.map_err(|e| internal(function, "cannot wait for the process", e))?;
            finish(function, status, out, err)
        }
        Err(_) => {
            group.kill();
            let _ = child.start_kill();
            let _ = child.wait().await;
            Err(Error::new(
                ErrorKind::Timeout,
                format!("function {function:?} did not finish within {timeout:?} and was killed"),
            ))
        }
    }
}

fn internal(function: &str, what: &str, e: std::io::Error) -> Error {
    Error::internal(format!("function {function:?}: {what}: {e}")).with_source(e)
}

fn spawn(function: &str, spec: &FunctionSpec) -> Result<Child> {
    let (program, args) = spec
        .command
        .split_first()
        .ok_or_else(|| Error::internal(format!("function {function:?} has an empty command")))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| FALLBACK_PATH.into()),
        )
        .envs(&spec.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(dir) = &spec.dir {
        command.current_dir(dir);
    }
    #[cfg(unix)]
    command.process_group(0);
    command
        .spawn()
        .map_err(|e| internal(function, &format!("cannot start {program:?}"), e))
}

/// Turns the finished process into the call's answer.
fn finish(
    function: &str,
    status: ExitStatus,
    out: std::io::Result<(Vec<u8>, bool)>,
    err: std::io::Result<Vec<u8>>,
) -> Result<Bytes> {
    let failed = |message: String| Error::new(ErrorKind::FunctionFailed, message);
    let stderr = err
        .map(|e| String::from_utf8_lossy(&e).trim().to_owned())
        .unwrap_or_default();
    if !status.success() {
        let how = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => format!("was terminated ({status})"),
        };
        let tail = if stderr.is_empty() {
            "(no stderr output)".to_owned()
        } else {
            stderr
        };
        return Err(failed(format!("function {function:?} {how}: {tail}")));
    }
    let (out, truncated) = out.map_err(|e| internal(function, "cannot read stdout", e))?;
    if truncated {
        return Err(failed(format!(
            "function {function:?} wrote more than {MAX_COMPUTE_PAYLOAD_BYTES} bytes to stdout"
        )));
    }
    stratus::compute::check_result(function, Bytes::from(out))
}

/// Reads `reader` to the end, keeping at most `cap` bytes; the flag says whether more came.
async fn read_capped(
    reader: Option<impl AsyncRead + Unpin>,
    cap: usize,
) -> std::io::Result<(Vec<u8>, bool)> {
    let mut kept = Vec::new();
    let mut truncated = false;
    let Some(mut reader) = reader else {
        return Ok((kept, truncated));
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok((kept, truncated));
        }
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
        truncated |= n > room;
    }
}

/// Reads `reader` to the end, keeping its last `tail` bytes.
async fn read_tail(
    reader: Option<impl AsyncRead + Unpin>,
    tail: usize,
) -> std::io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let Some(mut reader) = reader else {
        return Ok(kept);
    };
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok(kept);
        }
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > tail {
            kept.drain(..kept.len() - tail);
        }
    }
}

/// Kills the child's whole process group when dropped while armed.
struct GroupKiller {
    pgid: Option<u32>,
}

impl GroupKiller {
    fn new(child: &Child) -> Self {
        Self { pgid: child.id() }
    }

    /// The call finished normally: leave the group alone.
    fn disarm(mut self) {
        self.pgid = None;
    }

    /// Kills the group now (the leader is not reaped yet, so its id cannot be reused).
    fn kill(mut self) {
        self.kill_now();
    }

    fn kill_now(&mut self) {
        #[cfg(unix)]
        if let Some(pgid) = self.pgid.take().and_then(|p| libc::pid_t::try_from(p).ok()) {
            // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
        self.pgid = None;
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        self.kill_now();
    }
}

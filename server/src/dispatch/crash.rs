//! Crash points for the crash tests.

/// For crash tests: when `RUNWAY_CRASH_AT` names this point (`point`, or `point:n` for its n-th
/// passage in this process), the process kills itself with SIGKILL there (no clean-up, no flush),
/// as a power cut or an OOM kill would. Points: `after_claim`, `after_triggering` (the run is
/// recorded as triggering), `after_trigger` (the CI accepted it), `after_recorded` (its reference
/// is stored), `after_poll` (a status is stored); and `mail_sent` (the SMTP server took a
/// message, not yet recorded as sent).
pub fn crash_point(point: &str) {
    static PASSED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let Ok(wanted) = std::env::var("RUNWAY_CRASH_AT") else {
        return;
    };
    let (name, nth) = wanted
        .split_once(':')
        .map_or((wanted.as_str(), 1), |(n, c)| (n, c.parse().unwrap_or(1)));
    if name == point && PASSED.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == nth {
        tracing::error!(point, "RUNWAY_CRASH_AT: killing the process");
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
    }
}

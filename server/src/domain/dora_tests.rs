//! The DORA figures against a fixture whose answers were worked out by hand.

use super::*;

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/// Deployment `i` of Banking production: day 2i at 10:00, version 1.i.0, opened 20 h before it
/// ended; even ones say their commit was 44 h before.
fn nth(i: i64) -> Deployment {
    let finished_at = T0 + 2 * i * DAY + 10 * HOUR;
    Deployment {
        id: i,
        request_id: i,
        application: "banking".into(),
        environment: "production".into(),
        version: format!("1.{i}.0"),
        requested_at: finished_at - 20 * HOUR,
        commit_at: (i % 2 == 0).then_some(finished_at - 44 * HOUR),
        finished_at,
        succeeded: true,
        incident: false,
        rollback: false,
        segments: [0; 4],
    }
}

/// Forty deployments over ninety days: #10 fails, #20 raises an incident, #30 is rolled back by
/// #31 (which deploys 1.29.0 again), and #40, the last, fails with nothing after it.
fn quarter() -> Vec<Deployment> {
    let mut all: Vec<Deployment> = (1..=40).map(nth).collect();
    all[9].succeeded = false;
    all[19].incident = true;
    all[30].version = "1.29.0".into();
    all[39].succeeded = false;
    all
}

#[test]
fn a_quarter_worked_out_by_hand() {
    let f = figures(&quarter(), T0, T0 + 90 * DAY);
    assert_eq!((f.deployments, f.successes), (40, 38));
    // 38 successes in 90 days.
    assert!((f.per_day - 38.0 / 90.0).abs() < 1e-9, "{}", f.per_day);
    // 20 odd ones measured from the request (20 h), 18 even ones from the commit (44 h): the
    // 19th and 20th of 38 are both 20 h.
    assert_eq!(f.lead_time_ms, Some(20 * HOUR));
    assert!(!f.lead_from_commits);
    // #10 failed, #20 had an incident, #30 was rolled back, #40 failed: 4 of 40.
    assert_eq!(f.failures, 4);
    assert_eq!(f.failure_rate, Some(0.1));
    // #10, #20 and #30 are each followed by a success two days later; #40 by nothing.
    assert_eq!(f.recovery_ms, Some(48 * HOUR));
    assert_eq!(f.unrecovered, 1);
    assert_eq!(
        f.bands(),
        [
            Some(Band::High),   // 0.42 a day: at least weekly, not daily
            Some(Band::Elite),  // 20 h: under a day
            Some(Band::Medium), // 10 %: the medium cluster's figure
            Some(Band::Medium), // 48 h: under a week
        ]
    );
    // Squared log distances: elite 24.0, high 6.2, medium 13.4, low 37.7.
    assert_eq!(f.cluster(), Some(Band::High));
}

#[test]
fn the_weeks_add_up_to_the_period() {
    let all = quarter();
    let weeks = weekly(&all, T0, T0 + 90 * DAY);
    assert_eq!(weeks.len(), 13, "12 weeks and 6 days");
    assert_eq!(weeks.iter().map(|(_, f)| f.deployments).sum::<usize>(), 40);
    assert_eq!(weeks[0].0, T0);
    // Days 2, 4 and 6 fall in the first week.
    assert_eq!(weeks[0].1.deployments, 3);
}

#[test]
fn no_deployment_gives_no_figure_and_no_cluster() {
    let f = figures(&quarter(), T0 - 90 * DAY, T0);
    assert_eq!((f.deployments, f.per_day), (0, 0.0));
    assert_eq!(
        (f.lead_time_ms, f.failure_rate, f.recovery_ms),
        (None, None, None)
    );
    assert_eq!(f.bands(), [None; 4]);
    assert_eq!(f.cluster(), None);
}

#[test]
fn one_deployment_is_measured_without_failures() {
    let one = vec![nth(1)];
    let f = figures(&one, T0, T0 + 30 * DAY);
    assert_eq!(f.successes, 1);
    assert_eq!(f.failure_rate, Some(0.0));
    assert_eq!((f.recovery_ms, f.unrecovered), (None, 0));
    assert_eq!(
        f.bands()[0],
        Some(Band::Medium),
        "one in 30 days is monthly"
    );
    assert!(f.cluster().is_some());
}

#[test]
fn a_failure_never_recovered_is_counted_apart() {
    let mut one = nth(2);
    one.succeeded = false;
    let f = figures(&[one], T0, T0 + 30 * DAY);
    assert_eq!((f.failures, f.unrecovered, f.recovery_ms), (1, 1, None));
    assert_eq!(f.failure_rate, Some(1.0));
    assert_eq!(f.bands()[2], Some(Band::Low));
}

#[test]
fn commit_times_measure_lead_time_when_all_have_them() {
    let evens: Vec<Deployment> = (1..=5).map(|i| nth(2 * i)).collect();
    let f = figures(&evens, T0, T0 + 30 * DAY);
    assert_eq!(f.lead_time_ms, Some(44 * HOUR));
    assert!(f.lead_from_commits);
    assert_eq!(f.bands()[1], Some(Band::High));
}

#[test]
fn a_rollback_brings_back_a_version_deployed_before() {
    // Commit hashes as versions: no order, yet going back to one deployed before is a rollback.
    let place = |i: i64, version: &str| Deployment {
        version: version.into(),
        ..nth(i)
    };
    let all = vec![
        place(1, "9f1c2e"),
        place(2, "0ab3d4"),
        place(3, "9f1c2e"),
        place(4, "77e0aa"),
    ];
    let f = figures(&all, T0, T0 + 30 * DAY);
    assert_eq!(f.failures, 1, "only 0ab3d4, undone by 9f1c2e");
    // A newer release after a newer one is no rollback, whatever the names compare like.
    let names = vec![
        place(1, "v9"),
        place(2, "v10"),
        place(3, "1.0.0-rc.1"),
        place(4, "1.0.0"),
    ];
    assert_eq!(figures(&names, T0, T0 + 30 * DAY).failures, 0);
}

#[test]
fn a_rollback_request_marks_what_it_replaced_as_remediated() {
    // A rollback request whose version was never deployed here before (a fixed-forward build
    // rolled back to a hotfix, say) still says the deployment before it needed remediation.
    let mut all: Vec<Deployment> = (1..=3).map(nth).collect();
    all[2].rollback = true;
    let f = figures(&all, T0, T0 + 30 * DAY);
    assert_eq!(
        f.failures, 1,
        "only the second, which the third rolled back"
    );
}

#[test]
fn bands_at_their_edges() {
    assert_eq!(frequency_band(1.0), Band::Elite);
    assert_eq!(frequency_band(1.0 / 7.0), Band::High);
    assert_eq!(frequency_band(1.0 / 30.0), Band::Medium);
    assert_eq!(frequency_band(1.0 / 31.0), Band::Low);
    assert_eq!(lead_time_band(DAY - 1), Band::Elite);
    assert_eq!(lead_time_band(DAY), Band::High);
    assert_eq!(lead_time_band(MONTH), Band::Low);
    assert_eq!(recovery_band(HOUR - 1), Band::Elite);
    assert_eq!(recovery_band(WEEK), Band::Low);
    assert_eq!(failure_band(0.0), Band::Elite);
    assert_eq!(failure_band(0.16), Band::High);
    assert_eq!(failure_band(0.5), Band::Low);
}

#[test]
fn deployments_ending_at_one_moment_follow_what_ended_before() {
    // Two ends at the same millisecond: neither recovers the other; both recover the failure
    // before them, and the next success recovers nothing it did not follow.
    let at = |i: i64, finished_at: i64, succeeded: bool| Deployment {
        finished_at,
        succeeded,
        ..nth(i)
    };
    let all = vec![
        at(1, T0 + HOUR, false),
        at(2, T0 + 2 * HOUR, false),
        at(3, T0 + 2 * HOUR, true),
        at(4, T0 + 5 * HOUR, true),
    ];
    let f = figures(&all, T0, T0 + DAY);
    assert_eq!((f.failures, f.unrecovered), (2, 0));
    // #1 recovered by #3 after an hour, #2 by #4 after three.
    assert_eq!(f.recovery_ms, Some(2 * HOUR));
}

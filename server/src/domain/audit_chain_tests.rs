use super::*;

/// A well-formed trail of `n` events for request 7, and its head.
fn trail(n: i64) -> (Vec<Stored>, String) {
    let mut prev = String::new();
    let mut out = Vec::new();
    for i in 1..=n {
        let mut e = Stored {
            event_id: i * 10,
            request_id: 7,
            actor_id: Some(i),
            kind: "approved".into(),
            payload: format!("{{\"stage\":{i}}}"),
            at: 1_000 + i,
            prev_hash: Some(prev.clone()),
            hash: None,
        };
        let hash = link(&prev, &e.content());
        e.hash = Some(hash.clone());
        prev = hash;
        out.push(e);
    }
    (out, prev)
}

#[test]
fn an_untouched_trail_holds() {
    let (events, head) = trail(4);
    assert_eq!(check(&events, &head), None);
    assert_eq!(check(&[], ""), None);
}

#[test]
fn each_field_is_covered() {
    let (events, head) = trail(3);
    for change in 0..4 {
        let mut changed = events.clone();
        match change {
            0 => changed[1].payload = "{\"stage\":9}".into(),
            1 => changed[1].actor_id = None,
            2 => changed[1].at += 1,
            _ => changed[1].kind = "rejected".into(),
        }
        assert_eq!(
            check(&changed, &head),
            Some(Finding::Changed { event_id: 20 }),
            "change {change}"
        );
    }
}

#[test]
fn a_removed_event_is_named_by_its_neighbours() {
    let (events, head) = trail(4);
    let mut middle = events.clone();
    middle.remove(1);
    assert_eq!(
        check(&middle, &head),
        Some(Finding::Removed {
            after: Some(10),
            before: 30
        })
    );
    let mut first = events.clone();
    first.remove(0);
    assert_eq!(
        check(&first, &head),
        Some(Finding::Removed {
            after: None,
            before: 20
        })
    );
    let mut last = events.clone();
    last.pop();
    assert_eq!(
        check(&last, &head),
        Some(Finding::TailRemoved { after: Some(30) })
    );
    assert_eq!(
        check(&[], &head),
        Some(Finding::TailRemoved { after: None })
    );
}

#[test]
fn an_inserted_event_is_named_even_with_a_hash_made_for_it() {
    let (events, head) = trail(3);
    // Without a hash, at the end (where a plain insert lands).
    let mut plain = events.clone();
    plain.push(Stored {
        event_id: 99,
        hash: None,
        prev_hash: None,
        ..events[0].clone()
    });
    assert_eq!(
        check(&plain, &head),
        Some(Finding::Inserted { event_id: 99 })
    );
    // With a hash computed to follow event 10, slipped in before event 20.
    let mut forged = Stored {
        event_id: 15,
        kind: "approved".into(),
        prev_hash: events[0].hash.clone(),
        ..events[0].clone()
    };
    forged.hash = Some(link(
        events[0].hash.as_deref().unwrap_or_default(),
        &forged.content(),
    ));
    let mut slipped = events.clone();
    slipped.insert(1, forged.clone());
    assert_eq!(
        check(&slipped, &head),
        Some(Finding::Inserted { event_id: 15 })
    );
    // The same at the end, following the last event.
    let mut appended = events.clone();
    let mut tail = forged;
    tail.event_id = 40;
    tail.prev_hash = Some(head.clone());
    tail.hash = Some(link(&head, &tail.content()));
    appended.push(tail);
    assert_eq!(
        check(&appended, &head),
        Some(Finding::Inserted { event_id: 40 })
    );
}

#[test]
fn findings_name_the_request_and_the_event() {
    let said = Finding::Removed {
        after: Some(3),
        before: 5,
    }
    .describe(12);
    assert_eq!(
        said,
        "request #12: an event between events 3 and 5 was removed"
    );
    assert!(Finding::Changed { event_id: 4 }
        .describe(12)
        .starts_with("request #12, event 4: changed"));
}

//! Every template, text and HTML, as a snapshot; and what a hostile title can and cannot do.

use super::*;

fn names() -> Names<'static> {
    Names {
        application: "Banking",
        environment: "Production",
        version: "2.4.0",
        requester: "Ada Lovelace",
        request_id: 17,
        emergency: false,
    }
}

fn detail(kind: Kind) -> &'static str {
    match kind {
        Kind::Rejected => "Not during the quarter close.",
        Kind::Cancelled => "Superseded by 2.4.1",
        Kind::DeployFailed => "deploy: exit status 2 (https://ci.example/builders/3/builds/9)",
        Kind::ApprovalsVoided => "the version changed",
        Kind::TicketOpened => "deploy: exit status 2",
        _ => "",
    }
}

#[test]
fn every_kind_renders_both_parts() {
    for kind in Kind::ALL {
        let mut view = View::new(kind, &names(), detail(kind), "https://runway.example/");
        if kind == Kind::ApprovalNeeded {
            view.also = vec![Also {
                subject: "Reminder, approval still needed: Banking 2.4.0 to Production".into(),
                detail: String::new(),
            }];
        }
        let r = render(kind, &view).expect("renders");
        assert!(
            r.text.contains("https://runway.example/requests/17"),
            "{kind:?}"
        );
        assert!(
            r.html
                .contains("href=\"https://runway.example/requests/17\""),
            "{kind:?}"
        );
        assert!(!r.html.contains("<img"), "no remote images");
        insta::assert_snapshot!(format!("{}_subject", kind.as_str()), r.subject);
        insta::assert_snapshot!(format!("{}_text", kind.as_str()), r.text);
        insta::assert_snapshot!(format!("{}_html", kind.as_str()), r.html);
    }
}

#[test]
fn what_people_typed_is_escaped_in_html_and_kept_on_one_subject_line() {
    let hostile = Names {
        application: "Banking",
        environment: "Production",
        version: "<script>alert(1)</script>",
        requester: "Eve\r\nBcc: all@example.com",
        request_id: 3,
        emergency: false,
    };
    let view = View::new(
        Kind::ApprovalNeeded,
        &hostile,
        "<b onmouseover=x>hi</b>",
        "https://runway.example",
    );
    let r = render(Kind::ApprovalNeeded, &view).expect("renders");
    assert!(!r.html.contains("<script>"), "{}", r.html);
    assert!(!r.html.contains("<b onmouseover"), "{}", r.html);
    assert!(
        r.html.contains("script") && r.html.contains("alert(1)"),
        "kept, as text"
    );
    assert!(!r.subject.contains('\n') && !r.subject.contains('\r'));
    assert!(
        r.text.contains("<script>alert(1)</script>"),
        "the text part is plain text"
    );
}

#[test]
fn an_emergency_change_says_so_first() {
    let emergency = Names {
        emergency: true,
        ..names()
    };
    assert_eq!(
        crate::notify::subject(Kind::ApprovalNeeded, &emergency),
        "[Emergency] Approval needed: Banking 2.4.0 to Production, from Ada Lovelace"
    );
    assert_eq!(
        crate::notify::subject(Kind::Deployed, &names()),
        "Deployed: Banking 2.4.0 to Production"
    );
}

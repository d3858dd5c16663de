//! What the change channel carries.

/// What is heard on `Db::changes`, as one number so that replicas pass it on as it is: a
/// request that changed (its id), a person whose inbox changed (their user id, negated), or
/// notices waiting to be told (zero, which is no request's nor person's id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Request(i64),
    Inbox(i64),
    Notices,
}

impl Change {
    pub fn encode(self) -> i64 {
        match self {
            Change::Request(id) => id,
            Change::Inbox(user) => -user,
            Change::Notices => 0,
        }
    }

    pub fn decode(n: i64) -> Change {
        match n {
            ..0 => Change::Inbox(-n),
            0 => Change::Notices,
            _ => Change::Request(n),
        }
    }
}

//! What the change channel carries.

/// What is heard on `Db::changes`, as one number so that replicas pass it on as it is: a
/// request that changed (its id), or a person whose inbox changed (their user id, negated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Request(i64),
    Inbox(i64),
}

impl Change {
    pub fn encode(self) -> i64 {
        match self {
            Change::Request(id) => id,
            Change::Inbox(user) => -user,
        }
    }

    pub fn decode(n: i64) -> Change {
        if n < 0 {
            Change::Inbox(-n)
        } else {
            Change::Request(n)
        }
    }
}

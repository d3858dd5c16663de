//! The API's OpenAPI document as served: generated from the handlers and their types, then told
//! what the input rules and the running catalog accept (patterns, lengths, the applications and
//! their environments and fields), so a client, or a contract tester, reads exactly what the
//! server takes. The patterns come from `domain::text_patterns`, which its tests hold to the
//! checks the server runs.

use crate::auth::MAX_USERNAME_LEN;
use crate::domain::text::{MAX_STAGE, MAX_VERSION};
use crate::domain::text_patterns as pattern;
use crate::domain::{Application, Catalog, FieldKind};
use serde_json::{json, Map, Value};

/// The longest one-line and block texts a request takes (`domain::request`).
const MAX_LINE: usize = 200;
const MAX_BLOCK: usize = 10_000;

/// The document, with the applications of `catalog` when the caller may know them (a live
/// token: the applications it may touch). Without one, the catalog's names stay out of it.
pub fn document(known: Option<&Catalog>) -> Value {
    let empty = Catalog::default();
    let catalog = known.unwrap_or(&empty);
    let mut doc = serde_json::to_value(<super::api::ApiDoc as utoipa::OpenApi>::openapi())
        .unwrap_or_default();
    let schemas = &mut doc["components"]["schemas"];
    let shared = [
        ("version", text(pattern::VERSION, MAX_VERSION)),
        ("artifact", text(pattern::DIGEST_OR_EMPTY, MAX_LINE)),
        ("pipeline_url", text(&pattern::url_or_empty(), 2000)),
    ];
    let gate = &mut schemas["GateInput"];
    constrain(gate, &shared);
    constrain(
        gate,
        &[
            ("actor", text(&pattern::line(false), MAX_LINE)),
            ("at", date_time()),
        ],
    );
    by_application(gate, catalog, |_, _| {});

    let request = &mut schemas["NewRequestInput"];
    constrain(request, &shared);
    constrain(
        request,
        &[
            ("title", text(&pattern::line(false), MAX_LINE)),
            // Null, like leaving it out, is low.
            ("risk", json!({ "enum": ["low", "medium", "high", null] })),
            ("requested_by", username_or_empty()),
            ("commit_at", date_time()),
            ("commits", commits()),
        ],
    );
    for name in ["summary", "rollback_plan"] {
        // Required by the server, so neither null nor missing.
        request["properties"][name] = json!({
            "type": "string",
            "pattern": pattern::block(true),
            "maxLength": MAX_BLOCK,
        });
        push_required(request, name);
    }
    by_application(request, catalog, |branch, app| {
        let (fields, any_required) = fields(app);
        branch["properties"]["fields"] = fields;
        if any_required {
            push_required(branch, "fields");
        }
    });

    constrain(
        &mut schemas["CommitInput"],
        &[
            ("id", text(pattern::VERSION, MAX_VERSION)),
            ("at", date_time()),
        ],
    );

    let stage = &mut schemas["StageInput"];
    constrain(
        stage,
        &[
            ("stage", text(pattern::STAGE, MAX_STAGE)),
            (
                "status",
                json!({ "enum": ["started", "succeeded", "failed"] }),
            ),
            ("started_at", date_time()),
            ("finished_at", date_time()),
            ("commit_at", date_time()),
            ("commits", commits()),
            (
                "metrics",
                json!({
                    "additionalProperties": { "type": "number" },
                    "propertyNames": { "pattern": pattern::METRIC_NAME },
                    "maxProperties": 50,
                }),
            ),
        ],
    );

    let id = json!({ "type": "integer", "format": "int64", "minimum": 1 });
    let count = json!({ "type": "integer", "format": "int64", "minimum": 0, "maximum": i64::MAX });
    let applications: Vec<&str> = catalog.applications.iter().map(|a| a.id.as_str()).collect();
    let mut environments: Vec<&str> = catalog
        .applications
        .iter()
        .flat_map(|a| a.environments.iter().map(|e| e.id.as_str()))
        .collect();
    environments.sort_unstable();
    environments.dedup();
    let teams: Vec<&str> = catalog.teams.iter().map(|t| t.id.as_str()).collect();
    let parameters = [
        ("id", id),
        (
            "Idempotency-Key",
            json!({ "type": "string", "pattern": "^[!-~]{1,200}$" }),
        ),
        ("from", json!({ "type": "string", "format": "date" })),
        ("to", json!({ "type": "string", "format": "date" })),
        ("application", one_of(known, &applications)),
        ("environment", one_of(known, &environments)),
        ("days", json!({ "type": "integer", "enum": [30, 90, 180] })),
        ("team", one_of(known, &teams)),
        (
            "person",
            json!({ "type": "string", "pattern": pattern::USERNAME, "maxLength": MAX_USERNAME_LEN }),
        ),
        ("after", count),
        (
            "limit",
            json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": 1000 }),
        ),
    ];
    let operations = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    for operation in operations {
        let params = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut);
        for p in params.into_iter().flatten() {
            if let Some((_, schema)) = parameters.iter().find(|(name, _)| p["name"] == *name) {
                p["schema"] = schema.clone();
            }
        }
    }
    doc
}

/// A string among `values` when the catalog is known, else any string.
fn one_of(known: Option<&Catalog>, values: &[&str]) -> Value {
    match known {
        Some(_) => json!({ "type": "string", "enum": values }),
        None => json!({ "type": "string" }),
    }
}

/// A string property's pattern and length.
fn text(pattern: &str, max: usize) -> Value {
    json!({ "pattern": pattern, "maxLength": max })
}

/// A user name, or nothing (the token's own user).
fn username_or_empty() -> Value {
    json!({ "pattern": pattern::or_empty(pattern::USERNAME), "maxLength": MAX_USERNAME_LEN })
}

fn commits() -> Value {
    json!({ "maxItems": crate::service::input::MAX_COMMITS })
}

fn date_time() -> Value {
    json!({ "format": "date-time" })
}

/// Adds `rules` to the named properties of an object schema, keeping what is there (its type,
/// and whether null is taken).
fn constrain(schema: &mut Value, rules: &[(&str, Value)]) {
    for (name, rule) in rules {
        let property = schema
            .get_mut("properties")
            .and_then(|p| p.get_mut(*name))
            .and_then(Value::as_object_mut);
        if let (Some(property), Value::Object(rule)) = (property, rule) {
            property.extend(rule.clone());
        }
    }
    // Every body type denies fields it does not know.
    schema["additionalProperties"] = Value::Bool(false);
}

fn push_required(schema: &mut Value, name: &str) {
    if let Some(list) = schema.as_object_mut().map(|o| {
        o.entry("required")
            .or_insert_with(|| Value::Array(Vec::new()))
    }) {
        if let Some(list) = list.as_array_mut() {
            if !list.iter().any(|n| n == name) {
                list.push(Value::from(name));
            }
        }
    }
}

/// One branch per application of the catalog (its id, its environments, and whatever `tailor`
/// adds), in place of the plain schema: which environments and fields are valid depends on the
/// application.
fn by_application(
    schema: &mut Value,
    catalog: &Catalog,
    tailor: impl Fn(&mut Value, &Application),
) {
    if catalog.applications.is_empty() {
        return;
    }
    let base = schema.take();
    let branches: Vec<Value> = catalog
        .applications
        .iter()
        .map(|app| {
            let mut branch = base.clone();
            if let Some(o) = branch.as_object_mut() {
                o.remove("description");
            }
            branch["title"] = Value::from(app.name.as_str());
            branch["properties"]["application"] = json!({ "type": "string", "enum": [app.id] });
            let environments: Vec<&str> = app.environments.iter().map(|e| e.id.as_str()).collect();
            branch["properties"]["environment"] = json!({ "type": "string", "enum": environments });
            tailor(&mut branch, app);
            branch
        })
        .collect();
    let mut one_of = json!({ "oneOf": branches });
    if let Some(description) = base.get("description") {
        one_of["description"] = description.clone();
    }
    *schema = one_of;
}

/// The application's own form fields, by id; and whether any must be given.
fn fields(app: &Application) -> (Value, bool) {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in &app.fields {
        let must = f.required && f.kind != FieldKind::Checkbox;
        let schema = match f.kind {
            FieldKind::Checkbox => json!({
                "type": "string",
                "pattern": pattern::NO_NUL,
                "description": "on, true, 1 or yes ticks it; any other value leaves it clear",
            }),
            FieldKind::Text => json!({
                "type": "string",
                "pattern": pattern::block(must),
                "maxLength": MAX_BLOCK,
            }),
            FieldKind::Number => json!({
                "type": "string",
                "pattern": if must { pattern::NUMBER.to_owned() } else { pattern::or_empty(pattern::NUMBER) },
            }),
            FieldKind::Select => {
                let mut options: Vec<&str> = f.options.iter().map(String::as_str).collect();
                if !must {
                    options.push("");
                }
                json!({ "type": "string", "enum": options })
            }
        };
        let mut schema = schema;
        schema["title"] = Value::from(f.label.as_str());
        properties.insert(f.id.clone(), schema);
        if must {
            required.push(Value::from(f.id.as_str()));
        }
    }
    let any = !required.is_empty();
    (
        json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        }),
        any,
    )
}

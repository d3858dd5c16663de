//! What starts the browser bundle, in every page's head: links that fetch its files at once, and
//! the script that compiles the wasm as it arrives and then hydrates the page.

use leptos::nonce::use_nonce;
use leptos::prelude::*;
use leptos::WasmSplitManifest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The bundle's files, named as the build named them (`scripts/assets.mjs` writes the digests).
#[derive(Clone, Debug)]
struct Files {
    js: String,
    wasm: String,
    /// The lazy pages' chunk loader, and the chunks each lazy function needs: a split build only.
    split: Option<(String, WasmSplitManifest)>,
}

impl Files {
    fn read(options: &LeptosOptions) -> Self {
        let digests = if options.hash_files {
            std::fs::read_to_string(options.hash_file.as_ref()).unwrap_or_default()
        } else {
            String::new()
        };
        let digest = |key: &str| {
            digests
                .lines()
                .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix(':'))
                .map(|d| format!(".{}", d.trim()))
        };
        let name = options.output_name.as_ref();
        let js = format!("{name}{}.js", digest("js").unwrap_or_default());
        // Unhashed, wasm-bindgen's own name, unless cargo-leptos named the bundle when it built
        // this server.
        let plain_wasm = match option_env!("LEPTOS_OUTPUT_NAME") {
            Some(_) => String::new(),
            None => "_bg".to_owned(),
        };
        let wasm = format!("{name}{}.wasm", digest("wasm").unwrap_or(plain_wasm));
        // A bundle named by its digests has a chunk loader only when the build named it too:
        // a plain one left in the folder by an older build is not this bundle's.
        let (loader, manifest) = match (digest("split"), digest("manifest")) {
            (Some(loader), Some(manifest)) => (loader, manifest),
            _ if options.hash_files => {
                return Self {
                    js,
                    wasm,
                    split: None,
                }
            }
            _ => (".______________________".to_owned(), String::new()),
        };
        let loader = format!("__wasm_split{loader}.js");
        let manifest = std::path::Path::new(options.site_root.as_ref())
            .join(options.site_pkg_dir.as_ref())
            .join(format!("__wasm_split_manifest{manifest}.json"));
        let chunks: Option<HashMap<String, Vec<String>>> = std::fs::read_to_string(&manifest)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        if chunks.is_none() && options.hash_files {
            leptos::logging::error!("the chunk manifest {} cannot be read", manifest.display());
        }
        let pkg = format!("/{}", options.site_pkg_dir);
        let split = chunks.map(|chunks| {
            let manifest = WasmSplitManifest(ArcStoredValue::new((pkg, chunks, loader.clone())));
            (loader, manifest)
        });
        Self { js, wasm, split }
    }
}

/// The links and the starting script. The script is a classic one placed before the stylesheet,
/// so it runs as soon as the parser reaches it: the wasm is compiled as it downloads instead of
/// once the document is parsed and styled (leptos's own starter is a module script, which waits
/// for both). Hydrating still waits for the whole document.
#[component]
pub fn Bundle(options: LeptosOptions) -> impl IntoView {
    // Read once per site: the tests run several portals, with several sites, in one process.
    static FILES: OnceLock<Mutex<HashMap<String, Arc<Files>>>> = OnceLock::new();
    let site = format!(
        "{}|{}|{}",
        options.hash_files, options.hash_file, options.site_root
    );
    let files = FILES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .entry(site)
        .or_insert_with(|| Arc::new(Files::read(&options)))
        .clone();
    let pkg = format!("/{}", options.site_pkg_dir);
    let (js, wasm) = (
        format!("{pkg}/{}", files.js),
        format!("{pkg}/{}", files.wasm),
    );
    let loader = files.split.as_ref().map(|(loader, manifest)| {
        // Leptos links the chunks a rendered page needs from this manifest.
        provide_context(manifest.clone());
        let href = format!("{pkg}/{loader}");
        view! { <link rel="modulepreload" href=href crossorigin="anonymous"/> }
    });
    let script = format!(
        "(function (js, wasm) {{\
         var compiled = WebAssembly.compileStreaming\
         ? WebAssembly.compileStreaming(fetch(wasm)).catch(function (e) {{\
         if (e instanceof TypeError) return fetch(wasm);\
         throw e;\
         }})\
         : fetch(wasm);\
         function parsed(then) {{\
         if (document.readyState === \"loading\") document.addEventListener(\"DOMContentLoaded\", then);\
         else then();\
         }}\
         import(js).then(function (bundle) {{\
         return bundle.default({{ module_or_path: compiled }}).then(function () {{ parsed(bundle.hydrate); }});\
         }}).catch(function (e) {{ console.error(\"the page could not start its bundle\", e); }});\
         }})({}, {});",
        script_string(&js),
        script_string(&wasm),
    );
    view! {
        <link rel="modulepreload" href=js crossorigin="anonymous"/>
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
        {loader}
        <script nonce=use_nonce()>{script}</script>
    }
}

/// `text` as a JavaScript string inside a `<script>` element: JSON, with `<` escaped so that no
/// `</script>` can end the element.
fn script_string(text: &str) -> String {
    serde_json::Value::from(text)
        .to_string()
        .replace('<', "\\u003c")
}

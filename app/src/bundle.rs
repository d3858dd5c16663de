//! What starts the browser bundle, in every page's head: links that fetch its files at once, and
//! the script that compiles the wasm as it arrives and then hydrates the page.

use leptos::nonce::use_nonce;
use leptos::prelude::*;
use leptos::WasmSplitManifest;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The bundle's files, named as the build named them (`scripts/assets.mjs` writes the digests).
#[derive(Clone, Debug)]
struct Files {
    js: String,
    wasm: String,
    /// The lazy pages' chunk loader and, by lazy function, the chunks it needs: a split build only.
    split: Option<(String, HashMap<String, Vec<String>>)>,
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
        let loader = format!(
            "__wasm_split{}.js",
            digest("split").unwrap_or_else(|| ".______________________".to_owned())
        );
        let manifest = format!(
            "__wasm_split_manifest{}.json",
            digest("manifest").unwrap_or_default()
        );
        let manifest = std::path::Path::new(options.site_root.as_ref())
            .join(options.site_pkg_dir.as_ref())
            .join(manifest);
        let split = std::fs::read_to_string(manifest)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .map(|chunks| (loader, chunks));
        Self { js, wasm, split }
    }
}

/// The links and the starting script. The script is a classic one placed before the stylesheet,
/// so it runs as soon as the parser reaches it: the wasm is compiled as it downloads instead of
/// once the document is parsed and styled (leptos's own starter is a module script, which waits
/// for both). Hydrating still waits for the whole document.
#[component]
pub fn Bundle(options: LeptosOptions) -> impl IntoView {
    static FILES: OnceLock<Files> = OnceLock::new();
    let files = FILES.get_or_init(|| Files::read(&options));
    let pkg = format!("/{}", options.site_pkg_dir);
    let (js, wasm) = (
        format!("{pkg}/{}", files.js),
        format!("{pkg}/{}", files.wasm),
    );
    let loader = files.split.as_ref().map(|(loader, chunks)| {
        // Leptos links the chunks a rendered page needs from this manifest.
        provide_context(WasmSplitManifest(ArcStoredValue::new((
            pkg.clone(),
            chunks.clone(),
            loader.clone(),
        ))));
        let href = format!("{pkg}/{loader}");
        view! { <link rel="modulepreload" href=href crossorigin="anonymous"/> }
    });
    let script = format!(
        "(function (js, wasm) {{\
         var compiled = WebAssembly.compileStreaming\
         ? WebAssembly.compileStreaming(fetch(wasm)).catch(function () {{ return fetch(wasm); }})\
         : fetch(wasm);\
         function parsed(then) {{\
         if (document.readyState === \"loading\") document.addEventListener(\"DOMContentLoaded\", then);\
         else then();\
         }}\
         import(js).then(function (bundle) {{\
         return bundle.default({{ module_or_path: compiled }}).then(function () {{ parsed(bundle.hydrate); }});\
         }});\
         }})({}, {});",
        serde_json::Value::from(js.clone()),
        serde_json::Value::from(wasm.clone()),
    );
    view! {
        <link rel="modulepreload" href=js crossorigin="anonymous"/>
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
        {loader}
        <script nonce=use_nonce()>{script}</script>
    }
}

//! `embed_migrations!("folder")`: the folder's migration files as
//! `(name, text)` pairs compiled into the binary.

use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::LitStr;

pub(crate) fn expand(input: Tokens) -> syn::Result<Tokens> {
    let folder: LitStr = syn::parse2(input)?;
    let root = std::env::var("CARGO_MANIFEST_DIR").map_err(|_| {
        syn::Error::new(
            folder.span(),
            "CARGO_MANIFEST_DIR is unset: build with cargo",
        )
    })?;
    let dir = std::path::Path::new(&root).join(folder.value());
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        syn::Error::new(
            folder.span(),
            format!("cannot read migrations folder {}: {e}", dir.display()),
        )
    })?;
    let mut files: Vec<(String, String)> = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| syn::Error::new(folder.span(), e.to_string()))?
            .path();
        if path.extension().is_some_and(|e| e == "json")
            && let (Some(stem), Some(full)) =
                (path.file_stem().and_then(|s| s.to_str()), path.to_str())
        {
            files.push((stem.to_owned(), full.to_owned()));
        }
    }
    files.sort();
    let pairs = files
        .iter()
        .map(|(name, path)| quote! { (#name, ::core::include_str!(#path)) });
    Ok(quote! {
        {
            const __TACK_MIGRATIONS: &[(&str, &str)] = &[#(#pairs),*];
            __TACK_MIGRATIONS
        }
    })
}

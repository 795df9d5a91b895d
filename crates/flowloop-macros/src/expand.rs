//! The expansion of `#[kind]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, FnArg, ItemFn, Lit, LitStr, Meta, Pat, ReturnType, Token, Type};

/// What the attribute arguments say.
struct Args {
    name: LitStr,
    outputs: Vec<LitStr>,
    chunk: Option<LitStr>,
}

/// How one parameter receives data.
enum ParamKind {
    Value,
    Stream,
    Lazy,
}

struct Param {
    name: String,
    ty: Type,
    default: Option<Expr>,
    kind: ParamKind,
}

/// How the result becomes outputs.
struct Ret {
    fallible: bool,
    /// Tuple element types, or one type.
    items: Vec<Type>,
    tuple: bool,
    /// The Ok type (or the type).
    value: Type,
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = parse_args(attr)?;
    let mut func: ItemFn = syn::parse2(item)?;
    if !func.sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &func.sig.generics,
            "#[kind] functions cannot be generic",
        ));
    }
    let (streaming, params) = parse_params(&mut func)?;
    let ret = parse_ret(&func.sig.output)?;
    if !ret.tuple && args.outputs.len() > 1 {
        return Err(syn::Error::new_spanned(
            &args.name,
            "several output names need a tuple result",
        ));
    }
    if ret.tuple && !args.outputs.is_empty() && args.outputs.len() != ret.items.len() {
        return Err(syn::Error::new_spanned(
            &args.name,
            "give one output name per tuple element",
        ));
    }
    let doc = doc_text(&func.attrs);
    let kind_fn = kind_fn(&func, &args, &params, &ret, streaming, &doc);
    let node_fn = if streaming {
        quote!()
    } else {
        node_fn(&func, &params, &ret, &args)
    };
    Ok(quote! { #func #kind_fn #node_fn })
}

fn parse_args(attr: TokenStream) -> syn::Result<Args> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr)?;
    let mut name = None;
    let mut outputs = Vec::new();
    let mut chunk = None;
    for meta in metas {
        match &meta {
            Meta::NameValue(nv) if nv.path.is_ident("name") => name = Some(lit_str(&nv.value)?),
            Meta::NameValue(nv) if nv.path.is_ident("chunk") => chunk = Some(lit_str(&nv.value)?),
            Meta::List(list) if list.path.is_ident("outputs") => {
                outputs = Punctuated::<LitStr, Token![,]>::parse_terminated
                    .parse2(list.tokens.clone())?
                    .into_iter()
                    .collect();
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    meta,
                    "expected `name = \"..\"`, `outputs(..)` or `chunk = \"..\"`",
                ));
            }
        }
    }
    let name = name.ok_or_else(|| syn::Error::new(Span::call_site(), "#[kind] needs `name = \"shelf.kind\"`"))?;
    Ok(Args { name, outputs, chunk })
}

fn lit_str(e: &Expr) -> syn::Result<LitStr> {
    match e {
        Expr::Lit(l) => match &l.lit {
            Lit::Str(s) => Ok(s.clone()),
            _ => Err(syn::Error::new_spanned(e, "expected a string")),
        },
        _ => Err(syn::Error::new_spanned(e, "expected a string")),
    }
}

fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Reads the parameters, strips `#[default]`/`#[lazy]`, and says whether the first one is an
/// emitter (a streaming kind).
fn parse_params(func: &mut ItemFn) -> syn::Result<(bool, Vec<Param>)> {
    let mut params = Vec::new();
    let mut streaming = false;
    for (i, arg) in func.sig.inputs.iter_mut().enumerate() {
        let FnArg::Typed(pt) = arg else {
            return Err(syn::Error::new_spanned(arg, "#[kind] functions take no `self`"));
        };
        let Pat::Ident(pi) = &*pt.pat else {
            return Err(syn::Error::new_spanned(
                &pt.pat,
                "parameters must be plain names (they name the ports)",
            ));
        };
        let name = pi.ident.to_string().trim_start_matches('_').to_string();
        let ty = (*pt.ty).clone();
        let is_emitter = last_ident(&ty).as_deref() == Some("Emitter");
        if is_emitter && i == 0 {
            streaming = true;
            continue;
        }
        if is_emitter {
            return Err(syn::Error::new_spanned(
                &pt.ty,
                "the Emitter must be the first parameter",
            ));
        }
        let mut default = None;
        let mut kind = if last_ident(&ty).as_deref() == Some("Stream") {
            ParamKind::Stream
        } else {
            ParamKind::Value
        };
        let mut keep = Vec::new();
        for a in pt.attrs.drain(..) {
            if a.path().is_ident("default") {
                default = Some(a.parse_args::<Expr>()?);
            } else if a.path().is_ident("lazy") {
                kind = ParamKind::Lazy;
            } else {
                keep.push(a);
            }
        }
        pt.attrs = keep;
        params.push(Param {
            name,
            ty,
            default,
            kind,
        });
    }
    Ok((streaming, params))
}

fn parse_ret(output: &ReturnType) -> syn::Result<Ret> {
    let ty: Type = match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, t) => (**t).clone(),
    };
    let (fallible, value) = match &ty {
        Type::Path(p) if last_ident(&ty).as_deref() == Some("Result") => {
            let seg = p.path.segments.last().expect("a path has a last segment");
            let syn::PathArguments::AngleBracketed(ab) = &seg.arguments else {
                return Err(syn::Error::new_spanned(&ty, "write Result<T, E> in full"));
            };
            match ab.args.first() {
                Some(syn::GenericArgument::Type(t)) => (true, t.clone()),
                _ => return Err(syn::Error::new_spanned(&ty, "write Result<T, E> in full")),
            }
        }
        _ => (false, ty.clone()),
    };
    let (tuple, items) = match &value {
        Type::Tuple(t) if !t.elems.is_empty() => (true, t.elems.iter().cloned().collect()),
        other => (false, vec![other.clone()]),
    };
    Ok(Ret {
        fallible,
        items,
        tuple,
        value,
    })
}

fn doc_text(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for a in attrs {
        if let Meta::NameValue(nv) = &a.meta {
            if nv.path.is_ident("doc") {
                if let Ok(s) = lit_str(&nv.value) {
                    lines.push(s.value().trim().to_string());
                }
            }
        }
    }
    lines.join("\n").trim().to_string()
}

fn port_specs(params: &[Param]) -> Vec<TokenStream> {
    params
        .iter()
        .map(|p| {
            let name = &p.name;
            let ty = &p.ty;
            let (port_ty, mode) = match p.kind {
                ParamKind::Stream => (quote!(p::Type::Any), quote!(p::InputMode::Stream)),
                ParamKind::Lazy => (quote!(<#ty as p::FromPort>::TYPE), quote!(p::InputMode::Lazy)),
                ParamKind::Value => (quote!(<#ty as p::FromPort>::TYPE), quote!(p::InputMode::Value)),
            };
            let default = p.default.as_ref().map(|d| quote!(.default(p::Value::from(#d))));
            quote!(.input(p::PortSpec::new(#name, #port_ty).mode(#mode) #default))
        })
        .collect()
}

fn output_specs(args: &Args, ret: &Ret) -> Vec<TokenStream> {
    ret.items
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            let name = match args.outputs.get(i) {
                Some(n) => n.value(),
                None if ret.tuple => format!("out{i}"),
                None => "out".to_string(),
            };
            quote!(.output(#name, <#ty as p::IntoPort>::TYPE))
        })
        .collect()
}

/// `let a = match inputs.take::<T>(0) { .. };` per parameter.
fn takes(params: &[Param]) -> Vec<TokenStream> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let id = format_ident!("__{}", p.name);
            let ty = &p.ty;
            let take = match p.kind {
                ParamKind::Stream => quote!(inputs.stream(#i)),
                _ => quote!(inputs.take::<#ty>(#i)),
            };
            quote! {
                let #id = match #take {
                    Ok(v) => v,
                    Err(e) => return p::ready(Err(e.into())),
                };
            }
        })
        .collect()
}

/// Turns `__out` (the function's result) into `Result<Outputs<Value>, BoxError>`.
fn convert_result(ret: &Ret) -> TokenStream {
    let value = if ret.tuple {
        let idx: Vec<syn::Index> = (0..ret.items.len()).map(syn::Index::from).collect();
        quote!(p::Outputs::Many(vec![#(p::IntoPort::into_port(__v.#idx)),*]))
    } else {
        quote!(p::Outputs::One(p::IntoPort::into_port(__v)))
    };
    if ret.fallible {
        quote!(match __out { Ok(__v) => Ok(#value), Err(e) => Err(e.into()) })
    } else {
        quote!({ let __v = __out; Ok(#value) })
    }
}

fn kind_fn(func: &ItemFn, args: &Args, params: &[Param], ret: &Ret, streaming: bool, doc: &str) -> TokenStream {
    let vis = &func.vis;
    let fname = &func.sig.ident;
    let kind_name = &args.name;
    let kfn = format_ident!("{}_kind", fname);
    let ports = port_specs(params);
    let outs = output_specs(args, ret);
    let takes = takes(params);
    let ids: Vec<_> = params.iter().map(|p| format_ident!("__{}", p.name)).collect();
    let chunk = args.chunk.as_ref().map_or_else(|| quote!("any"), |c| quote!(#c));
    let stream_spec = streaming.then(
        || quote!(.streaming(p::Type::from_name(#chunk).expect("`chunk` names a type: any, int, float, string, ..."))),
    );
    let emitter = streaming.then(|| {
        quote! {
            let __emitter = match inputs.emitter() {
                Ok(e) => e,
                Err(e) => return p::ready(Err(e.into())),
            };
        }
    });
    let call_args = if streaming {
        quote!(__emitter, #(#ids),*)
    } else {
        quote!(#(#ids),*)
    };
    let body_kind = func.sig.asyncness.is_none().then(|| quote!(.body(p::BodyKind::Sync)));
    let convert = convert_result(ret);
    let body = if func.sig.asyncness.is_some() {
        quote!(p::pending(async move { let __out = #fname(#call_args).await; #convert }))
    } else {
        quote!({ let __out = #fname(#call_args); p::ready(#convert) })
    };
    let typed = typed_fn(fname, streaming, ret.fallible);
    let doc_line = format!("The `{}` node kind (generated by `#[kind]`).", kind_name.value());
    quote! {
        #[doc = #doc_line]
        #vis fn #kfn() -> ::flowloop_graph::kind::FnKind {
            use ::flowloop_graph::__private as p;
            let spec = p::KindSpec::new(#kind_name).doc(#doc) #(#ports)* #(#outs)* #stream_spec #body_kind #typed;
            p::FnKind::new(spec, |mut inputs: p::Inputs| {
                #emitter
                #(#takes)*
                #body
            })
        }
    }
}

/// `.typed_fn(TypedFn { path: "crate::module::fname", .. })`: where code generators find the
/// typed function.
fn typed_fn(fname: &syn::Ident, streaming: bool, fallible: bool) -> TokenStream {
    let name = fname.to_string();
    quote!(.typed_fn(p::TypedFn {
        path: concat!(module_path!(), "::", #name),
        streaming: #streaming,
        fallible: #fallible,
    }))
}

fn node_fn(func: &ItemFn, params: &[Param], ret: &Ret, args: &Args) -> TokenStream {
    let vis = &func.vis;
    let fname = &func.sig.ident;
    let nfn = format_ident!("{}_node", fname);
    let tys: Vec<&Type> = params.iter().map(|p| &p.ty).collect();
    let ids: Vec<_> = params.iter().map(|p| format_ident!("__{}", p.name)).collect();
    let names: Vec<&String> = params.iter().map(|p| &p.name).collect();
    let value = &ret.value;
    let call = if func.sig.asyncness.is_some() {
        quote!(move |#(#ids: #tys),*| #fname(#(#ids),*))
    } else {
        quote!(move |#(#ids: #tys),*| async move { #fname(#(#ids),*) })
    };
    let add = if ret.fallible {
        quote!(b.try_node(#call, args))
    } else {
        quote!(b.node(#call, args))
    };
    let kind_name = args.name.value();
    let doc_line =
        format!("A typed-flow node running `{fname}`, named `{kind_name}` with named inputs (generated by `#[kind]`).");
    quote! {
        #[doc = #doc_line]
        #vis fn #nfn(
            b: &mut ::flowloop_graph::__private::FlowBuilder,
            args: impl ::flowloop_graph::__private::IntoArgs<(#(#tys,)*)>,
        ) -> ::flowloop_graph::__private::Node<#value> {
            let node = #add;
            let index = b.len() - 1;
            b.set_name(node, &format!("{}#{}", #kind_name, index));
            b.set_input_names(node, &[#(#names),*]);
            node
        }
    }
}

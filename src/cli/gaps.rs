//! `gapmap gaps`: LSOAs both deprived and far from a category of asset,
//! printed as a table or CSV. Uses the same analysis and gap selection as
//! `GET /gaps`.

use std::fmt::Write as _;
use std::time::Instant;

use super::args::{GapsArgs, GapsFormat, StoreArgs};
use super::load::{load_atlas_with, load_config};
use super::memory::peak_rss_bytes;
use crate::analysis::gap_report::{report, validate, GapReport, RawGapParams};
use crate::analysis::located::assets_located_text;
use crate::analysis::Analysis;

/// Runs the command.
///
/// # Errors
/// When the atlas cannot be loaded or a parameter is invalid.
pub fn run(args: &GapsArgs) -> Result<(), String> {
    let load_started = Instant::now();
    let config = load_config(&args.atlas)?;
    let atlas = with_register(load_atlas_with(&args.atlas, &config)?, &args.store, &config)?;
    let load_s = load_started.elapsed().as_secs_f64();
    let raw = RawGapParams {
        category: Some(&args.category),
        max_decile: Some(&args.max_decile),
        min_distance_m: Some(&args.min_distance_m),
        domain: Some(&args.domain),
        year: Some(&args.year),
        measure: Some(&args.measure),
    };
    // Validate before the heavy work, so a typo fails at once.
    let request = validate(&atlas, &raw).map_err(|e| e.to_string())?;
    let analysis = Analysis::new(&atlas);
    let gaps = report(&atlas, &analysis, &request);
    if args.timings {
        let mib = peak_rss_bytes().map_or(f64::NAN, |b| b as f64 / 1_048_576.0);
        let origins: usize = analysis.access.origin_counts.iter().sum();
        eprintln!(
            "atlas {}: {} LSOAs, {} origins, {} categories, {} assets; load {:.1} s; access + 2SFCA + 2019 carry-over {:.2} s (origins {:.2} s, access {:.2} s, 2SFCA {:.2} s, 2019 {:.2} s); peak RSS {:.0} MiB",
            atlas.region.id,
            atlas.lsoa21.len(),
            origins,
            atlas.categories.len(),
            atlas.assets.len(),
            load_s,
            analysis.elapsed.as_secs_f64(),
            analysis.timings.origins.as_secs_f64(),
            analysis.timings.access.as_secs_f64(),
            analysis.timings.fca.as_secs_f64(),
            analysis.timings.history.as_secs_f64(),
            mib
        );
    }
    let located = assets_located_text(&atlas, Some(gaps.request.category));
    match args.format {
        // The CSV stays machine-readable: the method note goes to stderr.
        GapsFormat::Csv => {
            print!("{}", gaps.to_csv(&atlas, &analysis));
            eprintln!("{}", gaps.headline(&atlas));
            eprint!("{located}");
        }
        GapsFormat::Table => print!("{}{located}", table(&atlas, &analysis, &gaps)),
    }
    Ok(())
}

/// The atlas with the register's entries as assets and its categories,
/// composed as the server composes them ([`crate::live::Register::prepare`]),
/// when a register is named or the state directory holds one; the atlas as
/// loaded otherwise. Says which on stderr.
fn with_register(
    atlas: crate::atlas::Atlas,
    store: &StoreArgs,
    config: &crate::config::AtlasConfig,
) -> Result<crate::atlas::Atlas, String> {
    let embedded = store.state_dir.join("register.gpkg");
    if store.register.is_none() && !embedded.is_file() {
        eprintln!(
            "no register at {} (--state-dir, --register): data sources only",
            embedded.display()
        );
        return Ok(atlas);
    }
    let opened = super::token::open_store(store)?;
    let prepared = crate::live::Register::prepare(opened.as_ref(), &atlas, &config.register)
        .map_err(|e| e.to_string())?;
    eprintln!(
        "register {}: {} entries included",
        opened.location(),
        prepared.entries.len()
    );
    Ok(prepared.atlas)
}

fn table(atlas: &crate::atlas::Atlas, analysis: &Analysis, gaps: &GapReport) -> String {
    let mut s = String::new();
    let category = atlas
        .categories
        .get(gaps.request.category)
        .map_or("", |c| c.label.as_str());
    let _ = writeln!(
        s,
        "Gaps: {category}; {} decile <= {} (IMD {}); {} straight-line distance >= {} m",
        gaps.request.indicator,
        gaps.request.max_decile,
        gaps.request.year.number(),
        gaps.request.measure.name(),
        gaps.request.min_distance_m
    );
    // What the query can and cannot answer comes first, as in `GET /gaps`:
    // an empty table must not read as "no gaps" when there is no data.
    let _ = writeln!(s, "{}\n", gaps.headline(atlas));
    let _ = writeln!(
        s,
        "{:>4}  {:<10} {:<28} {:>6} {:>9} {:>9}  {:<34} {:>9}  {:<28}",
        "rank", "LSOA", "name", "decile", "dist m", "max m", "nearest asset", "residents", "ward"
    );
    for r in &gaps.rows {
        let l = atlas.lsoa21.get(r.lsoa);
        let ward = l
            .and_then(|l| atlas.ward_of(l))
            .map_or("", |w| w.name.as_str());
        let nearest = atlas
            .assets
            .get(r.measured.nearest_asset as usize)
            .map_or("", |a| a.name.as_str());
        let _ = writeln!(
            s,
            "{:>4}  {:<10} {:<28} {:>6} {:>9.0} {:>9.0}  {:<34} {:>9}  {:<28}",
            r.rank,
            l.map_or("", |l| l.code.as_str()),
            truncate(l.map_or("", |l| l.name.as_str()), 28),
            r.decile,
            r.distance_m,
            r.measured.max_m,
            truncate(nearest, 34),
            l.and_then(|l| l.residents)
                .map_or(String::new(), |n| n.to_string()),
            truncate(ward, 28)
        );
    }
    if !gaps.unanswered.is_empty() {
        unanswered(&mut s, atlas, analysis, gaps);
    }
    let summary = gaps.summary(atlas);
    let _ = writeln!(
        s,
        "\n{} LSOAs, {} residents, {} wards. Left out: {}",
        summary["lsoas"], summary["residents"], summary["wards"], summary["left_out"]
    );
    let _ = writeln!(s, "Distances are straight-line (geodesic, WGS84) from each LSOA's postcodes; see GET /gaps for the full method.");
    s
}

/// The deprived LSOAs the query cannot answer for, one a line with their
/// status, then each status's reason once.
fn unanswered(s: &mut String, atlas: &crate::atlas::Atlas, analysis: &Analysis, gaps: &GapReport) {
    let _ = writeln!(
        s,
        "\nCannot answer for {} deprived LSOAs:",
        gaps.unanswered.len()
    );
    let _ = writeln!(
        s,
        "{:<10} {:<28} {:>6} {:>9}  {:<28} {:<13}",
        "LSOA", "name", "decile", "residents", "ward", "status"
    );
    let mut reasons: Vec<(&str, String)> = Vec::new();
    for u in &gaps.unanswered {
        let l = atlas.lsoa21.get(u.lsoa);
        let ward = l
            .and_then(|l| atlas.ward_of(l))
            .map_or("", |w| w.name.as_str());
        let status = u.why.status();
        let _ = writeln!(
            s,
            "{:<10} {:<28} {:>6} {:>9}  {:<28} {:<13}",
            l.map_or("", |l| l.code.as_str()),
            truncate(l.map_or("", |l| l.name.as_str()), 28),
            u.decile,
            l.and_then(|l| l.residents)
                .map_or(String::new(), |n| n.to_string()),
            truncate(ward, 28),
            status
        );
        if !reasons.iter().any(|(st, _)| *st == status) {
            reasons.push((status, gaps.reason(analysis, u.why)));
        }
    }
    for (status, reason) in reasons {
        let _ = writeln!(s, "{status}: {reason}");
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

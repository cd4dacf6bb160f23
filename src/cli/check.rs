//! `gapmap check`: load everything and print a summary of the atlas.

use std::fmt::Write as _;

use super::args::AtlasArgs;
use super::load::load_atlas;
use super::memory::peak_rss_bytes;
use crate::atlas::Atlas;

/// Runs the command.
///
/// # Errors
/// When the atlas cannot be loaded.
pub fn run(args: &AtlasArgs) -> Result<(), String> {
    let atlas = load_atlas(args)?;
    print!("{}", summary(&atlas));
    Ok(())
}

/// Regions with more districts than this get no per-district list.
const LIST_DISTRICTS_UP_TO: usize = 20;

/// The printed summary.
#[must_use]
#[allow(clippy::too_many_lines)]
pub fn summary(atlas: &Atlas) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "GapMap atlas: {} ({})",
        atlas.region.name, atlas.region.id
    );
    let _ = writeln!(s, "\nAreas");
    let _ = writeln!(s, "  districts            {:>7}", atlas.districts.len());
    let _ = writeln!(s, "  wards (2024)         {:>7}", atlas.wards.len());
    let _ = writeln!(s, "  LSOAs 2021           {:>7}", atlas.lsoa21.len());
    let _ = writeln!(s, "  LSOAs 2011           {:>7}", atlas.lsoa11.len());
    let _ = writeln!(s, "  postcodes (origins)  {:>7}", atlas.postcodes.len());
    // England has 296 districts: list them only for county-sized regions.
    if atlas.districts.len() > LIST_DISTRICTS_UP_TO {
        let _ = writeln!(
            s,
            "    (per-district counts omitted for {} districts)",
            atlas.districts.len()
        );
    }
    for d in atlas
        .districts
        .iter()
        .take_while(|_| atlas.districts.len() <= LIST_DISTRICTS_UP_TO)
    {
        let l11 = atlas
            .lsoa11
            .iter()
            .filter(|l| l.district_code.as_deref() == Some(d.code.as_str()))
            .count();
        let _ = writeln!(
            s,
            "    {} {:<22} {:>4} wards {:>5} LSOAs 2021 {:>5} LSOAs 2011",
            d.code,
            d.name,
            d.wards.len(),
            d.lsoas.len(),
            l11
        );
    }
    let _ = writeln!(s, "\nJoin coverage");
    let count =
        |f: &dyn Fn(&crate::atlas::Lsoa21) -> bool| atlas.lsoa21.iter().filter(|l| f(l)).count();
    let _ = writeln!(
        s,
        "  LSOAs 2021 without IMD 2025      {:>6}",
        count(&|l| l.imd.iter().all(crate::atlas::IndicatorValue::is_empty))
    );
    let _ = writeln!(
        s,
        "  LSOAs 2021 without population    {:>6}",
        count(&|l| l.residents.is_none())
    );
    let _ = writeln!(
        s,
        "  LSOAs 2021 without ward          {:>6}",
        count(&|l| l.ward.is_none())
    );
    let _ = writeln!(
        s,
        "  LSOAs 2021 without rural/urban   {:>6}",
        count(&|l| l.rural_urban.is_none())
    );
    let _ = writeln!(s, "  LSOAs 2021 without postcodes     {:>6}", {
        let mut has = vec![false; atlas.lsoa21.len()];
        for p in atlas.postcodes.iter() {
            if let Some(h) = has.get_mut(p.lsoa21 as usize) {
                *h = true;
            }
        }
        has.iter().filter(|h| !**h).count()
    });
    let _ = writeln!(
        s,
        "  LSOAs 2011 without IMD 2019      {:>6}",
        atlas
            .lsoa11
            .iter()
            .filter(|l| l.imd.iter().all(crate::atlas::IndicatorValue::is_empty))
            .count()
    );
    let _ = writeln!(
        s,
        "  LSOAs 2011 without 2021 link     {:>6}",
        atlas.lsoa11.iter().filter(|l| l.lsoa21.is_empty()).count()
    );
    let _ = writeln!(
        s,
        "  wards without boundary           {:>6}",
        atlas.wards.iter().filter(|w| w.geometry.is_none()).count()
    );
    let _ = writeln!(
        s,
        "  region postcodes in no LSOA      {:>6}",
        atlas.report.postcodes_outside_lsoas
    );

    let _ = writeln!(
        s,
        "\nAssets by category (inside region + outside, kept within {} m or as far as a nearer asset could lie; ring of {} LSOAs within {} m for 2SFCA demand)",
        atlas.region.edge_buffer_m,
        atlas.ring.lsoas.len(),
        atlas.ring.reach_m
    );
    for (i, c) in atlas.categories.iter().enumerate() {
        let (inside, outside) = atlas
            .assets
            .iter()
            .filter(|a| usize::from(a.category) == i)
            .fold(
                (0, 0),
                |(a, b), x| if x.in_region { (a + 1, b) } else { (a, b + 1) },
            );
        let _ = writeln!(
            s,
            "  {:<18} {:>6} inside {:>6} outside",
            c.id, inside, outside
        );
    }
    let _ = writeln!(s, "\nAssets by source");
    for (i, src) in atlas.sources.iter().enumerate() {
        let kept = atlas
            .assets
            .iter()
            .filter(|a| usize::from(a.source) == i)
            .count();
        let find = |v: &[(String, usize)]| v.iter().find(|(k, _)| *k == src.id).map_or(0, |x| x.1);
        let unplaced = atlas
            .report
            .unplaced
            .iter()
            .filter(|u| u.source == src.id)
            .count();
        let _ = writeln!(
            s,
            "  {:<14} kept {:>6}  filtered out {:>6}  not geocoded {:>4}  beyond region {:>6}  duplicates {:>3}  [{}; {}; {}]",
            src.id,
            kept,
            find(&atlas.report.filtered_out),
            unplaced,
            find(&atlas.report.beyond_region),
            find(&atlas.report.duplicates),
            src.vintage,
            src.licence,
            src.coverage.description()
        );
    }
    if !atlas.report.unplaced.is_empty() {
        let _ = writeln!(
            s,
            "\nRows not geocoded: {} (first 10 of each source)",
            atlas.report.unplaced.len()
        );
        // Per source, so that one source's many rows (pharmacies on the
        // Isle of Man) do not hide another's (skipped OSM polygons).
        for src in &atlas.sources {
            for u in atlas
                .report
                .unplaced
                .iter()
                .filter(|u| u.source == src.id)
                .take(10)
            {
                let _ = writeln!(s, "  {} row {}: {} ({})", u.source, u.row, u.name, u.reason);
            }
        }
    }
    let _ = writeln!(s, "\nLoad time per step");
    for step in &atlas.report.steps {
        let _ = writeln!(
            s,
            "  {:<34} {:>9} records {:>8.0} ms",
            step.step,
            step.records,
            step.elapsed.as_secs_f64() * 1000.0
        );
    }
    let _ = writeln!(
        s,
        "  total                              {:>8.0} ms",
        atlas.report.total.as_secs_f64() * 1000.0
    );
    if let Some(peak) = peak_rss_bytes() {
        #[allow(clippy::cast_precision_loss)]
        let mib = peak as f64 / 1_048_576.0;
        let _ = writeln!(s, "  peak memory (RSS)                  {mib:>8.0} MiB");
    }
    s
}

//! Districts, wards and LSOAs of both vintages, joined by code; the links
//! between them; and their envelope indexes.

use std::collections::{BTreeMap, HashMap, HashSet};

use geo::{Contains, InteriorPoint};

use super::read::AreaReads;
use super::region::Members;
use super::{to_idx, BuildError, Timer};
use crate::atlas::area::{AreaIdx, District, Lsoa11, Lsoa21, Ward};
use crate::atlas::index::AreaIndex;
use crate::atlas::CodeLookup;
use crate::model::{IndicatorValue, RuralUrban};
use crate::sources::tables::{DeprivationValues, LsoaChangeRow};
use crate::sources::RawArea;

/// The region's areas, each layer sorted by code, linked to each other.
pub(super) struct Areas {
    /// 2021 LSOAs.
    pub lsoa21: Vec<Lsoa21>,
    /// 2011 LSOAs.
    pub lsoa11: Vec<Lsoa11>,
    /// 2011 LSOAs outside the region that region 2021 LSOAs derive from.
    pub lsoa11_outside: Vec<Lsoa11>,
    /// 2024 wards (every ward in the lookup, with or without a boundary, and
    /// every boundary-file ward of the region's districts that no LSOA best-fits).
    pub wards: Vec<Ward>,
    /// Districts.
    pub districts: Vec<District>,
}

/// Joins the area reads by code: districts, wards (from the region's lookup
/// rows), 2021 LSOAs with their deprivation, residents, classification, ward
/// and district, 2011 LSOAs with theirs, then the 2011 ↔ 2021 links and the
/// ward and district member lists.
pub(super) fn join(
    reads: AreaReads,
    members: &Members<'_>,
    changes: &[LsoaChangeRow],
    lsoa11_region: &HashSet<&str>,
) -> Areas {
    let AreaReads {
        lsoa21: lsoa21_raw,
        lsoa11: lsoa11_raw,
        wards: ward_raw,
        districts: district_raw,
        imd2025,
        imd2019,
        population,
        rural_urban,
        ward17,
        ring_lsoa21: _,
    } = reads;
    let mut districts = districts(district_raw);
    let district_lookup = CodeLookup::of(&districts, |d| &d.code);
    let mut wards = wards(ward_raw, members, &district_lookup, &districts);
    let ward_lookup = CodeLookup::of(&wards, |w| &w.code);
    let membership = district_membership(changes, members);
    let mut lsoa21 = lsoa21(
        lsoa21_raw,
        members,
        &membership,
        imd2025.values,
        &population,
        &rural_urban,
        &ward_lookup,
        &district_lookup,
    );
    let lsoa21_lookup = CodeLookup::of(&lsoa21, |l| &l.code);
    let (mut lsoa11, mut lsoa11_outside): (Vec<Lsoa11>, Vec<Lsoa11>) =
        lsoa11(lsoa11_raw, imd2019, &ward17)
            .into_iter()
            .partition(|l| lsoa11_region.contains(l.code.as_str()));
    let lsoa11_lookup = CodeLookup::of(&lsoa11, |l| &l.code);
    link_vintages(
        changes,
        &mut lsoa11,
        &lsoa11_lookup,
        &mut lsoa21,
        &lsoa21_lookup,
    );
    link_outside_parents(changes, &mut lsoa11_outside, &mut lsoa21, &lsoa21_lookup);
    link_members(&lsoa21, &mut wards, &mut districts);
    Areas {
        lsoa21,
        lsoa11,
        lsoa11_outside,
        wards,
        districts,
    }
}

/// Districts from their boundaries, sorted by code, with no members yet.
fn districts(raw: Vec<RawArea>) -> Vec<District> {
    let mut districts: Vec<District> = raw
        .into_iter()
        .map(|a| District {
            code: a.code,
            name: a.name,
            geometry: a.geometry,
            wards: Vec::new(),
            lsoas: Vec::new(),
        })
        .collect();
    districts.sort_by(|a, b| a.code.cmp(&b.code));
    districts
}

/// Every ward the region's lookup rows name, sorted by code, with its
/// boundary where one was published (and a note saying which), and its
/// district; no LSOAs yet.
fn wards(
    raw: Vec<RawArea>,
    members: &Members<'_>,
    district_lookup: &HashMap<String, AreaIdx>,
    districts: &[District],
) -> Vec<Ward> {
    let shapes: HashMap<String, RawArea> = raw.into_iter().map(|a| (a.code.clone(), a)).collect();
    let mut meta: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for r in &members.rows {
        meta.insert(&r.ward_code, (&r.ward_name, &r.district_code));
    }
    // Wards that no LSOA best-fits (the boundary reader kept them because
    // the lookup never names them) belong to the region when a point on
    // their surface lies in one of its districts; name from the boundary
    // file. Only in districts whose every 2024 ward has a 2022 boundary: where
    // wards were redrawn after 2022, a 2022 ward missing from the lookup is a
    // former ward, not a current one without LSOAs.
    let redrawn: HashSet<&str> = meta
        .iter()
        .filter(|(code, _)| !shapes.contains_key(**code))
        .map(|(_, (_, district))| *district)
        .collect();
    let mut orphans: Vec<(&str, (&str, &str))> = Vec::new();
    for (code, shape) in &shapes {
        if meta.contains_key(code.as_str()) {
            continue;
        }
        let Some(point) = shape.geometry.lonlat.interior_point() else {
            continue;
        };
        if let Some(d) = districts
            .iter()
            .find(|d| !redrawn.contains(d.code.as_str()) && d.geometry.lonlat.contains(&point))
        {
            orphans.push((code, (&shape.name, &d.code)));
        }
    }
    meta.extend(orphans);
    meta.iter()
        .map(|(code, (name, district))| {
            let shape = shapes.get(*code);
            let geometry_note = match shape {
                Some(s) => match &s.original_code {
                    Some(old) => {
                        format!("December 2022 boundary of {old}, recoded to {code} in 2024")
                    }
                    None => "December 2022 boundary".to_owned(),
                },
                None => "no published boundary for this ward code".to_owned(),
            };
            let geometry_note = if members.wards.contains(code) {
                geometry_note
            } else {
                format!("{geometry_note}; no 2021 LSOA best-fits this ward in the 2024 lookup (district by the boundary's position)")
            };
            Ward {
                code: (*code).to_owned(),
                name: (*name).to_owned(),
                district: district_lookup.get(*district).copied(),
                geometry: shape.map(|s| s.geometry.clone()),
                geometry_note,
                lsoas: Vec::new(),
            }
        })
        .collect()
}

/// 2021 LSOAs from their boundaries, sorted by code, with IMD 2025 values,
/// residents, rural/urban class, and the ward and district of their lookup
/// row; no 2011 links yet.
#[allow(clippy::too_many_arguments)] // one join, one argument per table it joins
fn lsoa21(
    raw: Vec<RawArea>,
    members: &Members<'_>,
    membership: &HashMap<&str, Option<&str>>,
    mut imd: HashMap<String, Vec<IndicatorValue>>,
    population: &HashMap<String, u32>,
    rural_urban: &HashMap<String, RuralUrban>,
    ward_lookup: &HashMap<String, AreaIdx>,
    district_lookup: &HashMap<String, AreaIdx>,
) -> Vec<Lsoa21> {
    let row_of: HashMap<&str, _> = members.rows.iter().map(|r| (r.lsoa.as_str(), r)).collect();
    let mut lsoa21: Vec<Lsoa21> = raw
        .into_iter()
        .map(|a| {
            let row = row_of.get(a.code.as_str());
            Lsoa21 {
                imd: imd.remove(&a.code).unwrap_or_default(),
                residents: population.get(&a.code).copied(),
                rural_urban: rural_urban.get(&a.code).cloned(),
                ward: row.and_then(|r| ward_lookup.get(r.ward_code.as_str()).copied()),
                district: match membership.get(a.code.as_str()) {
                    Some(d) => d.and_then(|d| district_lookup.get(d).copied()),
                    None => {
                        row.and_then(|r| district_lookup.get(r.district_code.as_str()).copied())
                    }
                },
                lsoa11: Vec::new(),
                lsoa11_outside: Vec::new(),
                code: a.code,
                name: a.name,
                geometry: a.geometry,
            }
        })
        .collect();
    lsoa21.sort_by(|a, b| a.code.cmp(&b.code));
    lsoa21
}

/// The district each region 2021 LSOA is a member of, where the 2011 → 2021
/// lookup (2022 districts) says so with a district code that is still in
/// use in the 2024 ward lookup: `Some(code)`. District figures use district
/// membership, not the ward best-fit: E01027305 best-fits a Cherwell ward
/// but is in West Northamptonshire (`Some("E06000062")`, a district outside
/// Oxfordshire), as MHCLG's IoD2025 summaries (v2) count it. LSOAs whose
/// 2022 district was since abolished (Cumbria, North Yorkshire, Somerset,
/// 2023) are left out and keep the ward lookup's 2024 district.
fn district_membership<'a>(
    changes: &'a [LsoaChangeRow],
    members: &Members<'_>,
) -> HashMap<&'a str, Option<&'a str>> {
    let current: HashSet<&str> = members.all_districts.iter().copied().collect();
    changes
        .iter()
        .filter(|c| members.lsoa21.contains(c.lsoa21.as_str()))
        .filter(|c| current.contains(c.district_code.as_str()))
        .map(|c| (c.lsoa21.as_str(), Some(c.district_code.as_str())))
        .collect()
}

/// 2011 LSOAs from their boundaries, sorted by code, with IMD 2019 values,
/// the 2015 population and the 2017 ward; no 2021 links yet.
fn lsoa11(
    raw: Vec<RawArea>,
    mut imd: DeprivationValues,
    ward17: &HashMap<String, String>,
) -> Vec<Lsoa11> {
    let mut lsoa11: Vec<Lsoa11> = raw
        .into_iter()
        .map(|a| Lsoa11 {
            imd: imd.values.remove(&a.code).unwrap_or_default(),
            population_2015: imd.population.get(&a.code).copied(),
            ward17: ward17.get(&a.code).cloned(),
            district_code: None,
            lsoa21: Vec::new(),
            code: a.code,
            name: a.name,
            geometry: a.geometry,
        })
        .collect();
    lsoa11.sort_by(|a, b| a.code.cmp(&b.code));
    lsoa11
}

/// Links 2011 and 2021 LSOAs both ways from the change lookup rows whose
/// two codes are both in the region, and gives 2011 LSOAs their district.
fn link_vintages(
    changes: &[LsoaChangeRow],
    lsoa11: &mut [Lsoa11],
    lsoa11_lookup: &HashMap<String, AreaIdx>,
    lsoa21: &mut [Lsoa21],
    lsoa21_lookup: &HashMap<String, AreaIdx>,
) {
    for c in changes {
        if let (Some(&i11), Some(&i21)) =
            (lsoa11_lookup.get(&c.lsoa11), lsoa21_lookup.get(&c.lsoa21))
        {
            lsoa11[i11 as usize].lsoa21.push((i21, c.change));
            lsoa11[i11 as usize].district_code = Some(c.district_code.clone());
            lsoa21[i21 as usize].lsoa11.push((i11, c.change));
        }
    }
}

/// Links region 2021 LSOAs to their parents outside the region (`outside`,
/// sorted by code) both ways, and gives those parents their district.
fn link_outside_parents(
    changes: &[LsoaChangeRow],
    outside: &mut [Lsoa11],
    lsoa21: &mut [Lsoa21],
    lsoa21_lookup: &HashMap<String, AreaIdx>,
) {
    let lookup = CodeLookup::of(outside, |l| &l.code);
    for c in changes {
        if let (Some(&i11), Some(&i21)) = (lookup.get(&c.lsoa11), lsoa21_lookup.get(&c.lsoa21)) {
            outside[i11 as usize].lsoa21.push((i21, c.change));
            outside[i11 as usize].district_code = Some(c.district_code.clone());
            lsoa21[i21 as usize].lsoa11_outside.push((i11, c.change));
        }
    }
}

/// Fills the LSOA lists of wards and districts and the ward lists of
/// districts, each in index order.
fn link_members(lsoa21: &[Lsoa21], wards: &mut [Ward], districts: &mut [District]) {
    for (i, l) in lsoa21.iter().enumerate() {
        if let Some(w) = l.ward {
            wards[w as usize].lsoas.push(to_idx(i));
        }
        if let Some(d) = l.district {
            districts[d as usize].lsoas.push(to_idx(i));
        }
    }
    for (i, w) in wards.iter().enumerate() {
        if let Some(d) = w.district {
            districts[d as usize].wards.push(to_idx(i));
        }
    }
}

/// The envelope index of the 2021 LSOAs, which places postcodes and picks
/// the ring (the atlas builds its own indexes, see `Atlas::from_parts`).
pub(super) fn lsoa21_index(areas: &Areas, timer: &Timer<'_>) -> Result<AreaIndex, BuildError> {
    timer.time(
        "index/lsoa21",
        |_: &AreaIndex| areas.lsoa21.len(),
        || {
            Ok(AreaIndex::build(
                areas
                    .lsoa21
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (to_idx(i), &l.geometry)),
            ))
        },
    )
}

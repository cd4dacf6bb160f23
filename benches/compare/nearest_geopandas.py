"""Nearest asset of each category to every LSOA centroid with geopandas, and
the check against GapMap's answers (examples/nearest_export.rs).

    python nearest_geopandas.py OUTDIR GAPMAP_CSV RESULT_JSON

Inputs are the features exported from GapMap's API in EPSG:27700
(OUTDIR/lsoa_bng.geojson, OUTDIR/assets_bng.geojson). The origin is each
LSOA polygon's centroid, as in the Rust helper; the nearest asset is found with
`sjoin_nearest` in EPSG:27700 (planar metres), ties broken by the lower asset
id, as GapMap does.

Agreement, per LSOA and category:
  match     same asset id and BNG distances within 1 m
  tie       different ids, but GapMap's asset (looked up here by id, in the
            same category) is within 1 m of geopandas' nearest distance from
            geopandas' own origin: equidistant assets (GapMap ranks by
            geodesic, geopandas by planar distance, so a tie may break
            either way)
  metric    different ids and distances more than 1 m apart, because the
            tools rank by different metrics: recomputed independently
            (pyproj.Geod, WGS84, from GapMap's lon/lat origin to the assets'
            CRS84 positions served by GapMap), GapMap's asset is geodesically
            no farther than geopandas' (1 m), geopandas' is planar no farther
            than GapMap's, and the planar distances differ by less than 0.1%
            (the projection's scale). Happens only far from any asset.
  disagree  anything else, or a pair only one tool answered
Exit status 1 when anything disagrees.

Also checks every GapMap geodesic distance against pyproj.Geod (reported,
and a difference above 1 m is a disagreement).
"""
import json
import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Geod

TOL_M = 1.0


def load(path, crs="EPSG:27700"):
    with open(path) as f:
        feats = json.load(f)["features"]
    return gpd.GeoDataFrame.from_features(feats, crs=crs)


def main():
    outdir, gapmap_csv, result_json = sys.argv[1:4]
    lsoa = load(f"{outdir}/lsoa_bng.geojson")[["code", "geometry"]]
    assets = load(f"{outdir}/assets_bng.geojson")[["id", "category", "geometry"]]
    assets = assets.sort_values("id", kind="stable").reset_index(drop=True)
    categories = sorted(assets["category"].unique())

    started = time.perf_counter()
    origins = gpd.GeoDataFrame({"lsoa_code": lsoa["code"]},
                               geometry=lsoa.geometry.centroid, crs="EPSG:27700")
    parts = []
    for cat in categories:
        sub = assets.loc[assets["category"] == cat, ["id", "geometry"]]
        j = gpd.sjoin_nearest(origins, sub, how="left", distance_col="bng_m")
        j = j.sort_values(["lsoa_code", "bng_m", "id"], kind="stable")
        j = j.drop_duplicates("lsoa_code", keep="first")
        parts.append(pd.DataFrame({"lsoa_code": j["lsoa_code"], "category": cat,
                                   "asset_id": j["id"], "bng_m": j["bng_m"]}))
    gp = pd.concat(parts, ignore_index=True)
    elapsed = time.perf_counter() - started

    gm = pd.read_csv(gapmap_csv)
    m = gm.merge(gp, on=["lsoa_code", "category"], how="outer",
                 suffixes=("_gapmap", "_geopandas"), indicator=True)
    both = m["_merge"] == "both"
    same_id = both & (m["asset_id_gapmap"] == m["asset_id_geopandas"])
    close = (m["bng_m_gapmap"] - m["bng_m_geopandas"]).abs() <= TOL_M
    match = same_id & close
    # For a tie, recompute the distance to GapMap's asset independently.
    by_id = assets.set_index("id")
    origin_of = origins.set_index("lsoa_code").geometry

    def tie_ok(row):
        aid = row["asset_id_gapmap"]
        if aid not in by_id.index or by_id.at[aid, "category"] != row["category"]:
            return False
        d = origin_of[row["lsoa_code"]].distance(by_id.at[aid, "geometry"])
        return abs(d - row["bng_m_geopandas"]) <= TOL_M

    cand = both & ~same_id & close
    tie = cand.copy()
    if cand.any():
        tie.loc[cand] = m.loc[cand].apply(tie_ok, axis=1).astype(bool)
    # Independent geodesic distances (pyproj.Geod / geographiclib) from
    # GapMap's lon/lat origin to both tools' assets.
    ll = load(f"{outdir}/assets.geojson", "OGC:CRS84").set_index("id").geometry
    lon_of, lat_of = ll.x, ll.y
    geod = Geod(ellps="WGS84")

    def geodesic(ids):
        lon = lon_of.reindex(ids).to_numpy()
        lat = lat_of.reindex(ids).to_numpy()
        out = np.full(len(m), np.nan)
        ok = both.to_numpy() & ~np.isnan(lon) & ~np.isnan(lat)
        _, _, d = geod.inv(m["origin_lon"].to_numpy()[ok], m["origin_lat"].to_numpy()[ok],
                           lon[ok], lat[ok])
        out[ok] = d
        return out

    g_gm = geodesic(m["asset_id_gapmap"])
    g_gp = geodesic(m["asset_id_geopandas"])
    geod_diff = np.abs(g_gm - m["geodesic_m"].to_numpy())
    geod_ok = pd.Series(np.nan_to_num(geod_diff, nan=np.inf) <= TOL_M, index=m.index)
    rel = ((m["bng_m_gapmap"] - m["bng_m_geopandas"]).abs()
           / m["bng_m_geopandas"].clip(lower=1.0))
    metric = (both & ~same_id & ~(match | tie) & (rel < 0.001)
              & pd.Series(g_gm <= g_gp + TOL_M, index=m.index)
              & (m["bng_m_geopandas"] <= m["bng_m_gapmap"] + TOL_M))
    disagree = ~(match | tie | metric) | (both & ~geod_ok)

    # The origins themselves: GapMap's centroid vs shapely's.
    oc = origins.set_index("lsoa_code")
    first = gm.drop_duplicates("lsoa_code").set_index("lsoa_code")
    dx = (first["origin_x"] - oc.geometry.x.reindex(first.index)).abs()
    dy = (first["origin_y"] - oc.geometry.y.reindex(first.index)).abs()

    result = {
        "pairs": int(len(m)),
        "match": int(match.sum()),
        "tie": int(tie.sum()),
        "metric": int(metric.sum()),
        "max_geodesic_vs_pyproj_m": float(np.nanmax(geod_diff)),
        "max_bng_diff_metric_m": float((m.loc[metric, "bng_m_gapmap"]
                                        - m.loc[metric, "bng_m_geopandas"]).abs().max()
                                       if metric.any() else 0.0),
        "disagree": int(disagree.sum()),
        "max_abs_bng_diff_m": float((m.loc[match, "bng_m_gapmap"]
                                     - m.loc[match, "bng_m_geopandas"]).abs().max()),
        "max_origin_diff_m": float(max(dx.max(), dy.max())),
        "max_geodesic_minus_bng_m": float((gm["geodesic_m"] - gm["bng_m"]).abs().max()),
        "geopandas_s": elapsed,
        "lsoas": int(len(lsoa)),
        "assets": int(len(assets)),
        "categories": len(categories),
        "versions": {"geopandas": gpd.__version__,
                     "shapely": __import__("shapely").__version__},
        "examples_disagree": m.loc[disagree].head(5).astype(str).to_dict("records"),
        "examples_tie": m.loc[tie].head(5).astype(str).to_dict("records"),
        "examples_metric": m.loc[metric].head(5).astype(str).to_dict("records"),
    }
    with open(result_json, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if not k.startswith("examples")}))
    sys.exit(1 if result["disagree"] else 0)


if __name__ == "__main__":
    main()

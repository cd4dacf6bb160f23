//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// GapMap: where deprivation and community assets meet, or fail to.
#[derive(Debug, Parser)]
#[command(name = "gapmap", version, about)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load every source, join and index them, and print a summary.
    Check(AtlasArgs),
    /// Load the atlas once and serve the OGC API, planner endpoints and map.
    Serve(ServeArgs),
    /// List LSOAs both deprived and far from a category of asset.
    Gaps(GapsArgs),
}

/// Arguments of `serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port and prints it).
    #[arg(long, env = "GAPMAP_BIND", default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,
    /// Limits on connections and requests.
    #[command(flatten)]
    pub limits: super::serve::LimitArgs,
    /// The public base URL of the API behind a reverse proxy
    /// (`https://example.org/gapmap`): every link starts with it, whatever
    /// the request's headers say.
    #[arg(long, env = "GAPMAP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Reverse proxies (IP addresses or CIDR networks, comma-separated or
    /// repeated) whose `Forwarded` / `X-Forwarded-Host/Proto/Prefix`
    /// headers are believed for links when no public URL is set.
    #[arg(
        long = "trusted-proxy",
        env = "GAPMAP_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,
    /// Which atlas to load.
    #[command(flatten)]
    pub atlas: AtlasArgs,
}

/// Which atlas to load.
#[derive(Debug, Clone, clap::Args)]
pub struct AtlasArgs {
    /// Region to load (a name under [regions] in the atlas definition:
    /// oxfordshire, oxford, england).
    #[arg(long, env = "GAPMAP_REGION")]
    pub region: Option<String>,
    /// Directory the atlas definition's paths are relative to.
    #[arg(long, env = "GAPMAP_DATA_DIR", default_value = "../shared/geodata")]
    pub data_dir: PathBuf,
    /// Atlas definition (TOML); the built-in geodata/atlas.toml when absent.
    #[arg(long, env = "GAPMAP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print no progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Output format of `gaps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GapsFormat {
    /// Aligned columns for people.
    Table,
    /// CSV with a header row.
    Csv,
}

/// Arguments of `gaps`.
#[derive(Debug, Clone, clap::Args)]
pub struct GapsArgs {
    /// Asset category id (e.g. gp_practice, library, park).
    #[arg(long)]
    pub category: String,
    /// Largest decile counted as deprived (1 = most deprived 10% in England).
    #[arg(long, default_value = "2")]
    pub max_decile: String,
    /// Smallest straight-line distance (m) counted as far.
    #[arg(long, default_value = "1600")]
    pub min_distance_m: String,
    /// Indicator (imd or a domain: income, employment, education, health, crime, housing, environment).
    #[arg(long, default_value = "imd")]
    pub domain: String,
    /// Deprivation release: 2019 or 2025.
    #[arg(long, default_value = "2025")]
    pub year: String,
    /// Distance measure: mean or max over the LSOA's postcodes.
    #[arg(long, default_value = "mean")]
    pub measure: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GapsFormat::Table)]
    pub format: GapsFormat,
    /// Print the analysis time and peak memory to stderr.
    #[arg(long)]
    pub timings: bool,
    /// Which atlas to load.
    #[command(flatten)]
    pub atlas: AtlasArgs,
}

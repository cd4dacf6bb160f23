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
    /// Manage the bearer tokens that may write to the register.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Work on the community asset register directly.
    #[command(subcommand)]
    Register(RegisterCommand),
}

/// Where the community asset register is stored.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Directory of the embedded register (`register.gpkg`, a GeoPackage),
    /// created on first use.
    #[arg(long, env = "GAPMAP_STATE_DIR", default_value = "./state")]
    pub state_dir: PathBuf,
    /// A shared register instead: `postgresql://user@host/db` (PostGIS),
    /// or the path of a GeoPackage.
    #[arg(long, env = "GAPMAP_REGISTER")]
    pub register: Option<String>,
}

/// `gapmap token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token and print it once (only its hash is stored).
    Add {
        /// Unique name, recorded as the author of each change.
        #[arg(long)]
        name: String,
        /// What it may do.
        #[arg(long, value_enum)]
        role: TokenRole,
        /// Where the register is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List tokens (names, roles, dates; never secrets).
    List {
        /// Where the register is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by name.
    Revoke {
        /// The token's name.
        name: String,
        /// Where the register is.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Token roles on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenRole {
    /// Read only (when reading needs a token).
    Viewer,
    /// Create, change and delete entries.
    Editor,
    /// Also import and manage categories.
    Admin,
}

/// `gapmap register ...`.
#[derive(Debug, Subcommand)]
pub enum RegisterCommand {
    /// Import a CSV, GeoJSON or GeoPackage file of entries: every row is
    /// validated first; all are written in one transaction, or none.
    Import(ImportArgs),
}

/// Arguments of `register import`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The file (.csv, .geojson/.json or .gpkg).
    pub file: PathBuf,
    /// Recorded as the author of the entries.
    #[arg(long = "as", default_value = "cli-import")]
    pub actor: String,
    /// CRS of the file's coordinates: CRS84 (default), EPSG:4326 or EPSG:27700
    /// (a GeoPackage's own CRS wins).
    #[arg(long, default_value = "CRS84")]
    pub crs: String,
    /// Where the register is.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Which atlas entries are validated against.
    #[command(flatten)]
    pub atlas: AtlasArgs,
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
    /// Where the community asset register is stored.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Who may read: `public` (anyone) or `token` (any valid token).
    #[arg(long, env = "GAPMAP_READ_ACCESS", value_enum, default_value_t = crate::api::state::ReadAccess::Public)]
    pub read_access: crate::api::state::ReadAccess,
    /// How often to look for register changes other servers made (shared
    /// PostGIS registers), e.g. `250ms`.
    #[arg(long, env = "GAPMAP_FOLLOW_INTERVAL", default_value = "250ms", value_parser = super::serve::parse_duration)]
    pub follow_interval: std::time::Duration,
    /// Directory of the prepared atlas: what a start-up built from the data
    /// files (the joined atlas and its analysis), written for the next
    /// start-up, which reads it back when nothing it was made from changed
    /// (the executable, the definition, the region, any file under the data
    /// directory). Default: `$XDG_CACHE_HOME/gapmap`, else
    /// `~/.cache/gapmap`.
    #[arg(long, env = "GAPMAP_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Load from the data files at every start-up, and write no prepared atlas.
    #[arg(long)]
    pub no_cache: bool,
    /// Which atlas to load.
    #[command(flatten)]
    pub atlas: AtlasArgs,
}

/// Which atlas to load.
#[derive(Debug, Clone, clap::Args)]
pub struct AtlasArgs {
    /// Region to load (a name under [regions] in the atlas definition:
    /// oxfordshire, oxford, rutland, england).
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
    /// The community asset register whose entries count as assets, as the
    /// server counts them: `--register`, or the state directory's
    /// `register.gpkg` when it exists (none is created).
    #[command(flatten)]
    pub store: StoreArgs,
    /// Which atlas to load.
    #[command(flatten)]
    pub atlas: AtlasArgs,
}

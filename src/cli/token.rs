//! `gapmap token add|list|revoke`: the bearer tokens that may write to the
//! register. A new token is printed once; only its Argon2id hash is stored.

use super::args::{StoreArgs, TokenCommand, TokenRole};
use crate::live::{compose, tokens};
use crate::model::register::Role;
use crate::sources::register::{self, RegisterStore};

/// Opens the register the arguments name.
pub(super) fn open_store(store: &StoreArgs) -> Result<Box<dyn RegisterStore>, String> {
    register::open(store.register.as_deref(), &store.state_dir).map_err(|e| e.to_string())
}

/// Runs a token command.
///
/// # Errors
/// A message when the store cannot be opened or the name is taken/unknown.
pub fn run(command: &TokenCommand) -> Result<(), String> {
    match command {
        TokenCommand::Add { name, role, store } => {
            let role = match role {
                TokenRole::Viewer => Role::Viewer,
                TokenRole::Editor => Role::Editor,
                TokenRole::Admin => Role::Admin,
            };
            let made = tokens::make(name, role, &compose::now()).map_err(|e| e.to_string())?;
            open_store(store)?
                .add_token(&made.record)
                .map_err(|e| e.to_string())?;
            eprintln!(
                "Token '{name}' ({}) made. It is shown once, now; keep it secret:",
                role.as_str()
            );
            println!("{}", made.token);
            Ok(())
        }
        TokenCommand::List { store } => {
            let list = open_store(store)?.tokens().map_err(|e| e.to_string())?;
            println!("{:<24} {:<7} {:<25} revoked", "name", "role", "created");
            for t in list {
                println!(
                    "{:<24} {:<7} {:<25} {}",
                    t.name,
                    t.role.as_str(),
                    t.created_at,
                    t.revoked_at.as_deref().unwrap_or("-")
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { name, store } => {
            if open_store(store)?
                .revoke_token(name, &compose::now())
                .map_err(|e| e.to_string())?
            {
                println!("Token '{name}' revoked.");
                Ok(())
            } else {
                Err(format!("no active token named '{name}'"))
            }
        }
    }
}

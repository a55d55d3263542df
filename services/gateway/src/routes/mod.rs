pub mod health;
pub mod proxy;

mod catalog;
mod cli;
mod health;
mod helpers;
mod login;
mod pages;
mod request_pages;
mod requests;

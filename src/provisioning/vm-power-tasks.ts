// QEMU power tasks used by the expiry action (helper D fills this in).
export {};

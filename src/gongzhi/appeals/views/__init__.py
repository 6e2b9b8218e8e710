"""Appeal pages: staff workbench (staff), the resident's phone pages (resident), settings (admin), Open311 keys."""

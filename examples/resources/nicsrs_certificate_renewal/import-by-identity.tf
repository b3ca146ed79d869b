# Terraform 1.12 and later: the order's certId is the resource's identity.
# `terraform plan` shows the import, `terraform apply` records it; with a
# resource block that matches the order, the plan after that is empty.
import {
  to       = nicsrs_certificate_renewal.web
  identity = { cert_id = "2f1a9c0e5b7d4e31" }
}

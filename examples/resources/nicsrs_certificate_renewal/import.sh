# An order placed elsewhere is imported by its certId; importing reads the
# order and places nothing. Write the resource block to match the order first,
# and check that the next plan does not replace it: a replacement is a new order.
terraform import nicsrs_certificate_renewal.web 2f1a9c0e5b7d4e31

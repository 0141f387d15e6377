package house_test.ingress

import data.main

ingress(env, annotations) := [{"path": "r.yaml", "contents": {"kind": "Ingress", "metadata": {"name": "api", "labels": {"environment": env}, "annotations": annotations}, "spec": {}}}]

issuer(doc) := {r | some r in main.deny with input as doc with data.house as {"part_of": "x", "cert_issuer_annotations": ["cert-manager.io/cluster-issuer", "cert-manager.io/issuer"]}; r.rule == "ingress-cert-issuer"}

test_issuer_annotation_passes if {
	count(issuer(ingress("prod", {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}))) == 0
	count(issuer(ingress("prod", {"cert-manager.io/issuer": "local"}))) == 0
}

test_missing_issuer_in_prod_is_denied if {
	some r in issuer(ingress("prod", {"nginx.ingress.kubernetes.io/ssl-redirect": "true"}))
	r.field == "metadata.annotations"
}

test_dev_needs_no_issuer if {
	count(issuer(ingress("dev", {}))) == 0
}

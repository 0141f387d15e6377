# ingress-cert-issuer: every prod Ingress names the cert-manager issuer that
# signs its certificate.
package main

import data.lib.k8s

deny contains k8s.result("ingress-cert-issuer", obj, "metadata.annotations", msg) if {
	some obj in k8s.objects
	obj.kind == "Ingress"
	k8s.is_prod(obj)
	annotations := object.get(obj, ["metadata", "annotations"], {})
	not has_issuer(annotations)
	msg := sprintf("prod Ingress %s has no cert-manager issuer annotation (%s)", [obj.metadata.name, concat(" or ", data.house.cert_issuer_annotations)])
}

has_issuer(annotations) if {
	some key in data.house.cert_issuer_annotations
	annotations[key] != ""
}

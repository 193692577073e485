import { ipLocationDatabaseInfo } from "@/lib/ip-location/locate";

/** The credit the country data asks for, once under the table rather than on every address. */
export function IpLocationCredit() {
  const info = ipLocationDatabaseInfo();
  const built = info ? `, built ${info.builtAt.toISOString().slice(0, 10)}` : "";
  return (
    <p className="text-xs text-slate-600" data-testid="ip-location-credit">
      Countries from the offline database geo-whois-asn-country{built}; data by NRO (nro.net), CC BY 4.0.
    </p>
  );
}

/** The credentials the fixtures configure and the fake CRMs accept. Test values only. */
export const CREDS = {
  hubspot: { accessToken: "pat-na1-00000000-test" },
  salesforce: { clientId: "3MVG9-test-client", clientSecret: "sf-test-secret", refreshToken: "5Aep-test-refresh" },
  zoho: { clientId: "1000.TESTCLIENT", clientSecret: "zoho-test-secret", refreshToken: "1000.test-refresh" },
  pipedrive: {
    apiToken: "pd-test-token",
    /** 40-hex keys, the way Pipedrive names custom fields. */
    idField: "9f1c2b3a4d5e6f708192a3b4c5d6e7f801234567",
    planField: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
    paymentField: "1b2c3d4e5f60718293a4b5c6d7e8f90123456789",
  },
  zendesk: { email: "agent@example.com", apiToken: "zd-test-token" },
  freshdesk: { apiKey: "fd-test-key" },
  dynamics365: { clientId: "00000000-0000-0000-0000-00000000c11e", clientSecret: "dyn-test-secret" },
} as const;

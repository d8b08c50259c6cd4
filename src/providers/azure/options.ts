// The fields an `azure-openai` provider entry has beyond the common ones: which deployment serves each model, and the
// Microsoft Entra ID credentials used instead of an api-key.

import { z } from 'zod';

/** The latest generally available dated version of the Azure OpenAI inference API. */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

export const ENTRA_DEFAULT_AUTHORITY = 'https://login.microsoftonline.com';
export const ENTRA_DEFAULT_SCOPE = 'https://cognitiveservices.azure.com/.default';

const entraSchema = z.strictObject({
  tenant_id: z.string().min(1),
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  authority_host: z.url({ protocol: /^https?$/, error: 'authority_host must be an absolute http(s) URL' }).default(ENTRA_DEFAULT_AUTHORITY),
  scope: z.string().min(1).default(ENTRA_DEFAULT_SCOPE),
});

export const azureOptionsSchema = z
  .strictObject({
    /** Model name (as routed) -> deployment name; a model without an entry is its own deployment. */
    deployments: z.record(z.string(), z.string().min(1)).default({}),
    /** Client-credentials sign-in with a Microsoft Entra ID app registration. */
    entra: entraSchema.optional(),
    /** A Microsoft Entra access token obtained elsewhere, sent as is (it is not refreshed). */
    azure_ad_token: z.string().min(1).optional(),
  })
  .refine((o) => !(o.entra && o.azure_ad_token), {
    message: "set either 'entra' (the gateway fetches and refreshes tokens) or 'azure_ad_token' (a fixed token), not both",
    path: ['azure_ad_token'],
  });

export type AzureOptions = z.infer<typeof azureOptionsSchema>;
export type EntraCredentials = z.infer<typeof entraSchema>;

// What the gateway itself reads from the bodies of the OpenAI endpoints it passes on: the model it routes by. Every
// other field goes to the provider as sent, so the provider validates it.

import { z } from 'zod';

export const modelField = z.string({ error: 'model is required: a model name from GET /v1/models, or <provider>/<model>' }).min(1, 'model must not be empty');

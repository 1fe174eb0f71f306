import { defineConfig } from 'vitest/config'

// Unit tests run the ES modules from src/ with every optional feature
// switched on; test/size.test.js builds the real bundles.
export default defineConfig({
  define: {
    FEATURE_CLICKS: 'true',
    FEATURE_FORMS: 'true',
    FEATURE_ENGAGEMENT: 'true',
    FEATURE_NOT_FOUND: 'true',
    FEATURE_HASH: 'true',
    FEATURE_CLICK_IDS: 'true',
    FEATURE_PHONE: 'true',
  },
  test: {
    environment: 'jsdom',
    environmentOptions: { jsdom: { url: 'https://www.example.com/' } },
    include: ['test/**/*.test.js'],
    globalSetup: ['test/bundles.setup.js'],
    restoreMocks: true,
    unstubGlobals: true,
  },
})

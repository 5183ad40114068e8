"""Mock HubSpot CRM v3 and Salesforce REST servers that the official clients accept unmodified."""
